"""A stack's settings with every check of the stack on its own: its keys and catalog (stack_settings),
then the limits that read the resolved settings as a whole (AWS quotas, foundation/settings/quotas.py).

The quota rules sit above the settings they read, so the settings never import them.
"""

from __future__ import annotations

from typing import Any

from foundation.settings.catalog import Catalog
from foundation.settings.quotas import check_stack_quotas
from foundation.settings.stack_settings import PROJECT, StackSettings, resolve_stack_settings


def settings_from_config(stack: str, raw_config: dict[str, Any], catalog: Catalog,
                         secret_keys: tuple[str, ...] = (), project: str = PROJECT) -> StackSettings:
    """The stack's settings from its full config map ({"ns:key": value}); a ConfigError for any rule it breaks."""
    settings = resolve_stack_settings(stack, raw_config, catalog, secret_keys, project)
    check_stack_quotas(settings)
    return settings
