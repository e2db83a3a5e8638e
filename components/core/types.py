"""The closed vocabularies shared by settings, components and the preview: one definition each."""

from __future__ import annotations

from typing import Literal, get_args

Environment = Literal["staging", "prod"]
Role = Literal["primary", "standby"]
Region = Literal["eu-central-1", "eu-west-1"]
Architecture = Literal["ARM64", "X86_64"]
NatStrategy = Literal["none", "single", "one-per-az"]
DeploymentStrategy = Literal["CANARY", "LINEAR"]
ContainerInsights = Literal["disabled", "enabled", "enhanced"]
# What a service speaks on its port: ECS portMappings appProtocol (botocore ecs ApplicationProtocol).
AppProtocol = Literal["http", "http2", "grpc"]
# The lowest level an app writes (LOG_LEVEL); the JSON log contract is in components/observability/logs.py.
LogLevel = Literal["DEBUG", "INFO", "WARN", "ERROR"]

ENVIRONMENTS: tuple[str, ...] = get_args(Environment)
ROLES: tuple[str, ...] = get_args(Role)
ARCHITECTURES: tuple[str, ...] = get_args(Architecture)
NAT_STRATEGIES: tuple[str, ...] = get_args(NatStrategy)
DEPLOYMENT_STRATEGIES: tuple[str, ...] = get_args(DeploymentStrategy)
LOG_LEVELS: tuple[str, ...] = get_args(LogLevel)
APP_PROTOCOLS: tuple[str, ...] = get_args(AppProtocol)

PRIMARY_REGION = "eu-central-1"
STANDBY_REGION = "eu-west-1"
REGION_OF_ROLE: dict[str, str] = {"primary": PRIMARY_REGION, "standby": STANDBY_REGION}
