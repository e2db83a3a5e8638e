"""RegionalPlatform: what the services of one stack share in one region (see component.py)."""

from components.regional_platform.args import CapacityStrategy, RegionalPlatformArgs
from components.regional_platform.component import COMPONENT_TYPE, NAMESPACE_NAME, RegionalPlatform

__all__ = ["COMPONENT_TYPE", "NAMESPACE_NAME", "CapacityStrategy", "RegionalPlatform", "RegionalPlatformArgs"]
