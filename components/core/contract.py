"""PlatformRefs: what a service receives from its region, as one frozen object.

RegionalPlatform builds it (`RegionalPlatform.refs`); MeshService and every later per-service component
take it whole instead of a list of loose ARNs. Adding something a service needs from its region means
adding a field here, once. Values are Pulumi inputs: known strings in tests, outputs in a stack.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi

from components.core.types import Environment, Region, Role

if TYPE_CHECKING:
    import pulumi_aws.ecs as ecs


@dataclass(frozen=True)
class NetworkRefs:
    """The VPC the tasks run in."""

    vpc_id: pulumi.Input[str]
    vpc_cidr: pulumi.Input[str]
    private_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    public_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    # Whether private subnets route to the internet through NAT. Without NAT every AWS API a task uses
    # has an interface endpoint in the VPC or is S3 (gateway endpoint), so task egress can be that narrow.
    has_nat: bool = True
    # The S3 gateway endpoint's managed prefix list (image layers come from S3).
    s3_prefix_list_id: pulumi.Input[str] | None = None


@dataclass(frozen=True)
class ClusterRefs:
    """The ECS cluster, its default capacity provider strategy and its Service Connect namespace."""

    arn: pulumi.Input[str]
    name: pulumi.Input[str]
    # [{"capacity_provider": "FARGATE", "base": 1, "weight": 1}, ...]: services repeat the cluster default
    # so that a service never falls back to a launch type.
    capacity_provider_strategy: Sequence[ecs.ServiceCapacityProviderStrategyArgsDict]
    namespace_id: pulumi.Input[str]
    namespace_arn: pulumi.Input[str]
    namespace_name: str
    # The cluster's capacity-provider association: a service that names FARGATE_SPOT in its strategy
    # fails to create before it exists, and must be deleted before it goes.
    depends_on: Sequence[pulumi.Resource] = ()


@dataclass(frozen=True)
class LoadBalancerRefs:
    """The public ALB that routed services hang their listener rules on."""

    arn: pulumi.Input[str]
    arn_suffix: pulumi.Input[str]
    dns_name: pulumi.Input[str]
    zone_id: pulumi.Input[str]
    security_group_id: pulumi.Input[str]
    # HTTPS when the stack has a domain, else HTTP: where service rules go.
    routing_listener_arn: pulumi.Input[str]
    http_listener_arn: pulumi.Input[str]
    https_listener_arn: pulumi.Input[str] | None
    # ECS infrastructure role that shifts canary/linear traffic on this ALB.
    deployment_role_arn: pulumi.Input[str]
    # Services must be created after, and deleted before, what their deployments rely on.
    depends_on: Sequence[pulumi.Resource] = ()


@dataclass(frozen=True)
class ServiceConnectTlsRefs:
    """TLS between Service Connect proxies: the Private CA, the ECS infrastructure role, the key."""

    certificate_authority_arn: pulumi.Input[str]
    role_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    # The CA certificate install and the role's policies: ECS services "can get stuck draining" if they
    # are removed first.
    depends_on: Sequence[pulumi.Resource] = ()


@dataclass(frozen=True)
class RepositoryRefs:
    """A service's ECR repository in this region (created in the primary, replicated to the standby)."""

    name: str
    url: pulumi.Input[str]
    arn: pulumi.Input[str]


@dataclass(frozen=True)
class EventBusRefs:
    """The environment's event bus in this region (components/events/bus.py), the same name in both regions."""

    name: pulumi.Input[str]
    arn: pulumi.Input[str]


@dataclass(frozen=True)
class PlatformRefs:
    """Everything a service needs from its region. Built by RegionalPlatform, read by services."""

    environment: Environment
    region: Region
    role: Role
    account_id: pulumi.Input[str]
    network: NetworkRefs
    cluster: ClusterRefs
    # The first public ALB: the stack's API name, and where routed services go unless placed on another.
    load_balancer: LoadBalancerRefs
    # The platform key: logs, ECR, secrets, Service Connect TLS.
    kms_key_arn: pulumi.Input[str]
    # Every role a service creates carries it.
    permissions_boundary_arn: pulumi.Input[str]
    # None when the stack runs Service Connect without TLS.
    service_connect_tls: ServiceConnectTlsRefs | None
    repositories: Mapping[str, RepositoryRefs]
    # The ADOT collector in this region's pull-through cache; None without tracing.
    collector_image_uri: pulumi.Input[str] | None
    # Where alarms a person must act on are sent; None until the stack has an alert topic.
    alarm_topic_arn: pulumi.Input[str] | None = None
    # Where services publish and subscribe; None until the stack has created its bus (foundation/data_stack.py).
    event_bus: EventBusRefs | None = None
    # Every public ALB of the region, the first one first (docs/scale.md); a service routed on the n-th
    # receives the refs with `load_balancer` set to it (`on_load_balancer`).
    load_balancers: Sequence[LoadBalancerRefs] = ()

    def on_load_balancer(self, index: int) -> PlatformRefs:
        """The same refs with the routed service's ALB (0-based shard index) as `load_balancer`."""
        if index == 0:
            return self
        if not 0 <= index < len(self.load_balancers):
            raise ValueError(f"the platform of {self.environment}/{self.region} has {len(self.load_balancers)} load "
                             f"balancers; there is no number {index + 1}")
        return dataclasses.replace(self, load_balancer=self.load_balancers[index])

    def repository(self, service: str) -> RepositoryRefs:
        try:
            return self.repositories[service]
        except KeyError:
            raise ValueError(f"the platform of {self.environment}/{self.region} has no repository for "
                             f"{service!r} (repositories: {sorted(self.repositories)})") from None
