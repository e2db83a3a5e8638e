"""The typed inputs of a MeshService: what the service is, how the stack runs services, and its region.

`ServiceDefinition` is the catalog entry as it runs in a stack; `foundation.settings` produces it
directly (no look-alike copy). `ServiceOperations` holds the stack-wide product values (timeouts,
deployment, alarms, tracing, logs). The region arrives whole as `components.core.contract.PlatformRefs`.
Each class checks AWS limits only (`components.core.validation`); product rules live in settings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from components.core import outputs
from components.core.contract import PlatformRefs
from components.core.types import ARCHITECTURES, DEPLOYMENT_STRATEGIES, AppProtocol, Architecture, DeploymentStrategy
from components.core.validation import (
    DNS_NAME,
    TARGET_GROUP_NAME,
    config_secret_clash_problem,
    health_path_problem,
    image_reference_problem,
    is_multiple_of_tenth,
    log_retention_problem,
    path_prefix_problem,
    plain_config_problem,
    raise_problem,
    secret_env_name,
    service_name_problem,
    task_count_problem,
    timeout_problems,
)
from components.legacy.legacy_route import LegacySplit
from components.mesh_service import container_definitions as containers
from components.mesh_service.client_policy import ClientPolicy
from components.mesh_service.protocol import protocol_problem

# Where the Service Connect proxy listens for calls from other Service Connect services (the
# ingressPortOverride; see docs/mesh-service.md for why it must differ from the container port). 15080:
# above 1023; below the Linux ephemeral range 32768-60999, so it never meets the source port of an
# outbound connection in the task's shared network namespace; not a port of the tracing collector
# (4317, 4318, 13133) nor one an app is likely to pick. Callers never see it: they keep using the client
# alias `<name>.<namespace>:<container port>`, which their own proxy resolves.
DEFAULT_SERVICE_CONNECT_INGRESS_PORT = 15080
HEALTH_CHECK_GRACE_PERIOD_SECONDS = 60
# Security groups per network interface: 5 by default, adjustable to at most 16 (foundation/settings/quotas.py checks
# the account's value). https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html
MAX_SECURITY_GROUPS_PER_NETWORK_INTERFACE = 16


@dataclass(frozen=True)
class ServiceDefinition:
    """One catalog service as it runs in a stack (platform/services.yaml + the stack's overrides)."""

    name: str
    port: int
    health_path: str
    # What the application container needs; the task is sized from it (components/mesh_service/sizing.py).
    cpu: int
    memory: int
    architecture: Architecture
    min_tasks: int
    max_tasks: int
    # A tag or sha256 digest in the service's own repository.
    image: str
    # Public path on the ALB and the listener rule priority; both or neither (internal service).
    path_prefix: str | None = None
    listener_rule_priority: int | None = None
    calls: tuple[str, ...] = ()
    # Names of Secrets Manager secrets `<environment>/<service>/<name>`, injected as env vars.
    secrets: tuple[str, ...] = ()
    # KEY -> value, stored as SSM String parameters /<environment>/<service>/<KEY>.
    config: Mapping[str, str] = field(default_factory=dict)
    protocol: AppProtocol = "http"
    client: ClientPolicy = field(default_factory=ClientPolicy)
    # A standby's service may sit at 0 tasks (pilot light) until the Region switch plan raises it.
    standby: bool = False
    # Tolerates Fargate Spot's two-minute notice: runs on the cluster's strategy (Spot share included);
    # otherwise on FARGATE only.
    interruptible: bool = False

    def __post_init__(self) -> None:
        raise_problem(service_name_problem(self.name))
        raise_problem(image_reference_problem(self.image))
        raise_problem(health_path_problem(self.health_path))
        raise_problem(task_count_problem(self.min_tasks, self.max_tasks, lowest=0 if self.standby else 1))
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {ARCHITECTURES}, got {self.architecture!r}")
        if not 1 <= self.port <= 65535:
            raise ValueError(f"port {self.port} must be within 1..65535")
        if (self.path_prefix is None) != (self.listener_rule_priority is None):
            raise ValueError("a path prefix and a listener rule priority go together: give both for a routed "
                             "service, neither for an internal one")
        if self.path_prefix is not None:
            raise_problem(path_prefix_problem(self.path_prefix))
        if self.listener_rule_priority is not None and not 1 <= self.listener_rule_priority <= 50000:
            raise ValueError(f"listener rule priority {self.listener_rule_priority} must be within 1..50000")
        for key, value in self.config.items():
            raise_problem(plain_config_problem(key, value))
        raise_problem(config_secret_clash_problem(self.config, self.secrets))
        if self.name in self.calls:
            raise ValueError(f"service {self.name!r} cannot call itself")
        # The listener is the platform's: MeshServiceArgs checks the HTTPS side.
        raise_problem(protocol_problem(self.protocol, self.health_path, routed=self.routed, https_listener=True))

    @property
    def routed(self) -> bool:
        return self.path_prefix is not None

    @property
    def secret_env_names(self) -> dict[str, str]:
        """Secret name -> environment variable: `jwt-signing-key` -> `JWT_SIGNING_KEY`."""
        return {secret: secret_env_name(secret) for secret in self.secrets}


@dataclass(frozen=True)
class Timeouts:
    """Service Connect timeouts and the app's own HTTP client timeout (validation.timeout_problems)."""

    per_request_seconds: int
    idle_seconds: int
    # Outbound HTTP calls from the app give up first, so the app sees its own timeout, not the proxy's 504.
    http_client_seconds: int

    def __post_init__(self) -> None:
        problems = timeout_problems(self.http_client_seconds, self.per_request_seconds, self.idle_seconds)
        if problems:
            raise ValueError("; ".join(problems))


@dataclass(frozen=True)
class DeploymentSettings:
    """ECS-native traffic shifting (API_CanaryConfiguration / API_LinearConfiguration)."""

    strategy: DeploymentStrategy
    canary_percent: float
    canary_bake_minutes: int
    step_percent: float
    step_bake_minutes: int
    bake_time_minutes: int

    def __post_init__(self) -> None:
        if self.strategy not in DEPLOYMENT_STRATEGIES:
            raise ValueError(f"deployment strategy must be one of {DEPLOYMENT_STRATEGIES}, got {self.strategy!r}")
        if not (0.1 <= self.canary_percent <= 100.0 and is_multiple_of_tenth(self.canary_percent)):
            raise ValueError(f"canary percent {self.canary_percent} must be a multiple of 0.1 within 0.1..100")
        if not (3.0 <= self.step_percent <= 100.0 and is_multiple_of_tenth(self.step_percent)):
            raise ValueError(f"step percent {self.step_percent} must be a multiple of 0.1 within 3..100")
        for label, minutes in (("canary bake", self.canary_bake_minutes), ("step bake", self.step_bake_minutes),
                               ("bake time", self.bake_time_minutes)):
            if not 0 <= minutes <= 1440:
                raise ValueError(f"{label} of {minutes} minutes must be within 0..1440")


@dataclass(frozen=True)
class AlarmThresholds:
    """Rollback alarm thresholds (the stack's `alarms` settings); the evaluation window is the component's."""

    error_rate_percent: float
    p95_latency_ms: float
    period_seconds: int = 60
    evaluation_periods: int = 3
    datapoints_to_alarm: int = 2

    def __post_init__(self) -> None:
        if not 0 < self.error_rate_percent <= 100 or self.p95_latency_ms <= 0:
            raise ValueError("alarm thresholds: 5xx rate within (0, 100] %, p95 latency > 0 ms")
        if not 1 <= self.datapoints_to_alarm <= self.evaluation_periods:
            raise ValueError("datapoints_to_alarm must be within 1..evaluation_periods")


@dataclass(frozen=True)
class ScalingTargets:
    cpu_percent: float = 65.0
    memory_percent: float = 75.0
    scale_in_cooldown_seconds: int = 300
    scale_out_cooldown_seconds: int = 60

    def __post_init__(self) -> None:
        if not (0 < self.cpu_percent <= 100 and 0 < self.memory_percent <= 100):
            raise ValueError("CPU and memory scaling targets are percentages within (0, 100]")


@dataclass(frozen=True)
class ServiceOperations:
    """How this stack runs every service: the stack's product settings, no defaults that could drift."""

    tracing_enabled: bool
    trace_sampling_ratio: float
    log_retention_days: int
    timeouts: Timeouts
    deployment: DeploymentSettings
    alarm_thresholds: AlarmThresholds
    scaling: ScalingTargets = field(default_factory=ScalingTargets)

    def __post_init__(self) -> None:
        raise_problem(log_retention_problem(self.log_retention_days))
        if not 0.0 <= self.trace_sampling_ratio <= 1.0:
            raise ValueError(f"trace sampling ratio {self.trace_sampling_ratio} must be within 0..1")


@dataclass(frozen=True)
class MeshServiceArgs:
    platform: PlatformRefs
    service: ServiceDefinition
    operations: ServiceOperations
    # Environment variable -> Secrets Manager secret ARN (or SSM SecureString parameter ARN).
    secret_arns: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    service_connect_ingress_port: int = DEFAULT_SERVICE_CONNECT_INGRESS_PORT
    # Set while the stack splits this service's route with the legacy Lambda it replaces.
    legacy: LegacySplit | None = None
    # The group this service's callers wear (ServiceClientGroups); None when nothing calls the service.
    client_security_group_id: pulumi.Input[str] | None = None
    # The client groups of the services this one calls: its tasks wear them next to their own group.
    callee_client_security_group_ids: Sequence[pulumi.Input[str]] = ()
    # Plain config whose value the stack learns only from other resources (the database host), injected
    # like `service.config` (components/data/names.PLATFORM_CONFIG_KEYS).
    platform_config: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        service, platform = self.service, self.platform
        if self.legacy is not None and not service.routed:
            raise ValueError(f"{service.name} has no ALB route to split with a legacy function")
        if self.legacy is not None and self.legacy.priority == service.listener_rule_priority:
            raise ValueError(f"the legacy split rule needs its own priority, not {self.legacy.priority}")
        platform.repository(service.name)
        if self.operations.tracing_enabled and platform.collector_image_uri is None:
            raise ValueError("tracing needs the platform's collector image, the collector in the regional "
                             "pull-through cache")
        raise_problem(protocol_problem(service.protocol, service.health_path, routed=service.routed,
                                       https_listener=platform.load_balancer.https_listener_arn is not None))
        if not DNS_NAME.match(self.dns_name):
            raise ValueError(f"'{self.dns_name}' is not a valid Service Connect DNS name")
        if not platform.network.has_nat and platform.network.s3_prefix_list_id is None:
            raise ValueError("without NAT, tasks reach S3 only through the gateway endpoint: the platform must "
                             "give its prefix list id")
        if not platform.cluster.capacity_provider_strategy:
            raise ValueError("a capacity provider strategy is required (launch type is never set)")
        clashes = sorted(set(service.config) & set(self.secret_arns))
        if clashes:
            raise ValueError(f"keys {clashes} are both plain config and secrets")
        clashes = sorted(set(self.platform_config) & (set(service.config) | set(self.secret_arns)))
        if clashes:
            raise ValueError(f"keys {clashes} are set by the platform and also by the catalog or as secrets")
        for key in self.platform_config:
            raise_problem(plain_config_problem(key, "platform"))
        for name in self.target_group_names:
            if not TARGET_GROUP_NAME.match(name):
                raise ValueError(f"target group name {name!r} exceeds 32 characters or uses invalid characters")
        groups = 1 + len(self.callee_client_security_group_ids)
        if groups > MAX_SECURITY_GROUPS_PER_NETWORK_INTERFACE:
            raise ValueError(f"{service.name}'s tasks would wear {groups} security groups (its own and one per "
                             f"called service); AWS allows at most {MAX_SECURITY_GROUPS_PER_NETWORK_INTERFACE} "
                             "per network interface")
        self._validate_ingress_port()

    def _validate_ingress_port(self) -> None:
        port = self.service_connect_ingress_port
        if not 1 <= port <= 65535:
            raise ValueError(f"Service Connect ingress port {port} must be within 1..65535")
        if port == self.service.port:
            raise ValueError(f"Service Connect ingress port {port} equals the container port: the proxy would "
                             "intercept the ALB's traffic and health checks (and with TLS accept only TLS 1.3 from "
                             "other proxies); pick another port")
        if self.operations.tracing_enabled and port in containers.ADOT_COLLECTOR_PORTS:
            raise ValueError(f"Service Connect ingress port {port} is taken by the tracing collector "
                             f"{containers.ADOT_COLLECTOR_PORTS}")

    @property
    def target_group_names(self) -> tuple[str, str]:
        base = f"{self.platform.environment}-{self.service.name}"
        return f"{base}-a", f"{base}-b"

    @property
    def dns_name(self) -> str:
        return f"{self.service.name}.{self.platform.cluster.namespace_name}"

    @property
    def image_uri(self) -> pulumi.Output[str]:
        separator = "@" if self.service.image.startswith("sha256:") else ":"
        return outputs.apply(self.platform.repository(self.service.name).url,
                             lambda url: f"{url}{separator}{self.service.image}")
