"""The typed inputs of a RegionalPlatform. AWS limits only; product defaults come from foundation.settings."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws.ecs as ecs

from components.core.types import ContainerInsights, Environment, NatStrategy, Region, Role

REGION_CODES = {"eu-central-1": "euc1", "eu-west-1": "euw1"}
# CreateLoadBalancer Name: at most 32 alphanumerics or hyphens, not starting or ending with "-", not
# starting with "internal-". https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html
ALB_NAME = re.compile(r"^(?!internal-)[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")


def alb_name(environment: str, region: str, number: int) -> str:
    """The name of the region's `number`th public ALB (from 1). The first keeps the name it always had."""
    base = f"{environment}-{REGION_CODES[region]}-platform"
    return base if number == 1 else f"{base}-{number}"


@dataclass(frozen=True)
class CapacityStrategy:
    on_demand_base: int
    on_demand_weight: int
    spot_weight: int
    spot_base: int = 0

    def __post_init__(self) -> None:
        if self.on_demand_base and self.spot_base:
            raise ValueError("CapacityStrategy: ECS allows a base on one capacity provider of a strategy")
        if self.spot_base and not self.spot_weight:
            raise ValueError("CapacityStrategy: spot_base needs spot_weight 1 or more")

    def provider_strategy(self) -> list[ecs.ClusterCapacityProvidersDefaultCapacityProviderStrategyArgsDict]:
        """The cluster's default capacity provider strategy, which services repeat."""
        strategy: list[ecs.ClusterCapacityProvidersDefaultCapacityProviderStrategyArgsDict] = [{"capacity_provider": "FARGATE", "base": self.on_demand_base, "weight": self.on_demand_weight}]
        if self.spot_weight:
            strategy.append({"capacity_provider": "FARGATE_SPOT", "base": self.spot_base, "weight": self.spot_weight})
        return strategy


@dataclass(frozen=True)
class RegionalPlatformArgs:
    environment: Environment
    region: Region
    role: Role
    account_id: pulumi.Input[str]
    vpc_cidr: str
    az_count: int
    nat_strategy: NatStrategy
    endpoint_az_count: int
    # Catalog service -> repository name (`<environment>/<service>`).
    repository_names: Mapping[str, str]
    capacity: CapacityStrategy
    alb_idle_timeout_seconds: int
    service_connect_tls: bool
    tracing: bool
    container_insights: ContainerInsights
    deletion_protection: bool
    access_log_retention_days: int
    domain_name: str | None = None
    hosted_zone_id: str | None = None
    untagged_image_days: int = 7
    tagged_images_kept: int = 30
    # Tags for the repositories ECR creates by replication in the standby region. The provider's default
    # tags don't reach them (ECR creates them, not Pulumi), so the creation template carries them.
    repository_tags: Mapping[str, str] = field(default_factory=dict)
    # The stack's alert topic (components/observability/alert_routing.py), encrypted with the platform key.
    alert_topic_name: str | None = None
    # The staging budget's scale-down topic and function (components/cost/budget_scale_down.py): the key policy
    # admits Budgets for the topic, the boundary admits the function's role. None: no scale-down.
    budget_scale_down_name: str | None = None
    # Where requests no service routes go: a legacy Lambda target group (components/legacy/legacy_route.py)
    # while the strangler fig migration runs; None answers them with a 404.
    default_target_group_arn: pulumi.Input[str] | None = None
    # Public ALBs the routed services are spread over (docs/scale.md); the first keeps its original names.
    load_balancer_count: int = 1

    def __post_init__(self) -> None:
        if not ALB_NAME.fullmatch(self.alb_name):
            raise ValueError(f"ALB name {self.alb_name!r} is not a valid load balancer name (at most 32 letters, "
                             "digits or hyphens, no hyphen at either end, no 'internal-' prefix)")
        if not 2 <= self.az_count <= 3 or not 0 <= self.endpoint_az_count <= self.az_count:
            raise ValueError("2-3 AZs, and interface endpoints in 0..azCount of them")
        if self.endpoint_az_count == 0 and self.nat_strategy == "none":
            raise ValueError("no interface endpoints (endpoint_az_count 0) needs a NAT gateway")
        if (self.domain_name is None) != (self.hosted_zone_id is None):
            raise ValueError("a domain and its hosted zone go together")
        if not 1 <= self.load_balancer_count <= 50:
            raise ValueError("1-50 load balancers (Application Load Balancers per Region: 50)")
        if not 1 <= self.alb_idle_timeout_seconds <= 4000:
            raise ValueError("ALB idle timeout must be within 1..4000 seconds")

    @property
    def alb_name(self) -> str:
        return alb_name(self.environment, self.region, 1)

    @property
    def alb_names(self) -> tuple[str, ...]:
        return tuple(alb_name(self.environment, self.region, n) for n in range(1, self.load_balancer_count + 1))
