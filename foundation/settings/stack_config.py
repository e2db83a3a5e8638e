"""The `microservices-foundation:*` keys of one stack (Pulumi.yaml defaults + Pulumi.<stack>.yaml).

Product rules live here (what this platform allows); AWS limits are the components' rules, applied to the
same keys through `aws_rule` so that a value AWS would refuse is reported against its config key.
"""

from __future__ import annotations

import ipaddress
import unicodedata
import urllib.parse
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from components.core.types import Architecture, DeploymentStrategy, Environment, LogLevel, NatStrategy, Region, Role
from components.core.validation import (
    health_path_problem,
    image_reference_problem,
    is_multiple_of_tenth,
    log_retention_problem,
    timeout_problems,
)
from components.failover.dns_failover import HEALTH_CHECKER_REGIONS, HEALTH_CHECKER_REGIONS_MIN
from components.observability.slo import (
    DEFAULT_CPU_PERCENT,
    DEFAULT_ERROR_LOG_LINES_PER_5_MINUTES,
    DEFAULT_ERROR_RATE_PERCENT,
    DEFAULT_MEMORY_PERCENT,
    DEFAULT_MIN_REQUESTS_PER_MINUTE,
    DEFAULT_P95_MS,
    DEFAULT_P99_MS,
    SloTargets,
)
from foundation.rto import (
    DEFAULT_APPROVAL_MINUTES,
    DEFAULT_DATABASE_SWITCH_MINUTES,
    DEFAULT_DECISION_MINUTES,
    DEFAULT_RPO_SECONDS,
    DEFAULT_RTO_OBJECTIVE_MINUTES,
    DEFAULT_SCALE_UP_MINUTES,
    GLOBAL_DB_RPO_MIN_SECONDS,
)
from foundation.settings.base import Model as _Model
from foundation.settings.base import matching
from foundation.settings.catalog import ServiceName, aws_rule
from foundation.settings.defaults import ENVIRONMENT_DEFAULTS
from foundation.settings.legacy import Legacy
from foundation.settings.load_balancers import LoadBalancers
from policies.cost.assumptions import UsageAssumptions, assumptions_for

RFC1918 = tuple(ipaddress.IPv4Network(block) for block in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


class Network(_Model):
    vpc_cidr: ipaddress.IPv4Network
    az_count: int = Field(default=3, ge=2, le=3)
    nat_strategy: NatStrategy = "single"
    # The seeds require the interface endpoints in every stack, whatever the NAT strategy: at least one AZ.
    endpoint_az_count: int = Field(default=2, ge=1, le=3, description="AZs the interface endpoints live in")

    @field_validator("vpc_cidr")
    @classmethod
    def _vpc_sized(cls, cidr: ipaddress.IPv4Network) -> ipaddress.IPv4Network:
        # AWS allows /16 to /28; the VPC is cut into eighths (a /21 each from a /18), and smaller
        # subnets would leave too few addresses for tasks, endpoints and ALB nodes.
        if not 16 <= cidr.prefixlen <= 18:
            raise ValueError(f"must be a /16 to /18 network (got /{cidr.prefixlen})")
        if not any(cidr.subnet_of(block) for block in RFC1918):
            raise ValueError("must lie within an RFC 1918 range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)")
        return cidr

    @model_validator(mode="after")
    def _endpoints_within_azs(self) -> Network:
        if self.endpoint_az_count > self.az_count:
            raise ValueError(f"endpointAzCount ({self.endpoint_az_count}) cannot exceed azCount ({self.az_count})")
        return self


class Dns(_Model):
    # The ACM certificate's domain name is its Common Name, which RFC 5280 holds to 64 characters
    # (RequestCertificate, DomainName); the API name below it is covered by the wildcard SAN.
    domain: Annotated[str, Field(max_length=64), matching(
        r"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}",
        "a lowercase DNS name such as platform.example.com (labels of letters, digits and inner hyphens)")]
    hosted_zone_id: Annotated[str, matching(r"Z[A-Z0-9]{1,31}",
                                            "a Route 53 hosted zone id: Z and up to 31 capital letters or digits")]
    api_subdomain: Annotated[str, matching(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?",
                                           "one lowercase DNS label such as api")] = "api"

    @property
    def api_name(self) -> str:
        return f"{self.api_subdomain}.{self.domain}"


# AWS tag values: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$, at most 256 characters (Tag, e.g. the Budgets API's
# ResourceTag). Python's \w is not that set (it has no \p{Z} spaces beyond ' ' and differs in marks).
TAG_VALUE_PUNCTUATION = frozenset("_.:/=+-@")


def aws_tag_value(value: str) -> str:
    for character in value:
        if unicodedata.category(character)[0] not in "LZN" and character not in TAG_VALUE_PUNCTUATION:
            raise ValueError(f"must be letters, digits, spaces and _ . : / = + - @ (an AWS tag value); "
                             f"{character!r} is not")
    return value


TagValue = Annotated[str, Field(min_length=1, max_length=256), AfterValidator(aws_tag_value)]


class CostTags(_Model):
    cost_center: TagValue
    owner: TagValue


class ServiceOverride(_Model):
    image: Annotated[str, aws_rule(image_reference_problem)] | None = None
    cpu: int | None = Field(default=None, ge=128, le=16384)
    memory: int | None = Field(default=None, ge=128, le=122880)
    architecture: Architecture | None = None
    min_tasks: int | None = Field(default=None, ge=1, le=100)
    max_tasks: int | None = Field(default=None, ge=1, le=1000)


class Services(_Model):
    enabled: tuple[ServiceName, ...] = Field(min_length=1)
    overrides: dict[ServiceName, ServiceOverride] = Field(default_factory=dict)


class ServiceConnect(_Model):
    tls: bool = True
    # The layers time out from the inside out: the app's own HTTP client gives up first, then the
    # Service Connect proxy per request, then the proxy's idle connection, then the ALB.
    client_timeout_seconds: int = Field(default=2, ge=1, le=3600)
    per_request_timeout_seconds: int = Field(default=3, ge=1, le=3600)
    idle_timeout_seconds: int = Field(default=60, ge=1, le=3600)
    alb_idle_timeout_seconds: int = Field(default=120, ge=1, le=4000)

    @model_validator(mode="after")
    def _timeouts_nest(self) -> ServiceConnect:
        problems = timeout_problems(self.client_timeout_seconds, self.per_request_timeout_seconds,
                                    self.idle_timeout_seconds)
        if problems:
            raise ValueError("; ".join(problems) + " (clientTimeoutSeconds < perRequestTimeoutSeconds < "
                                                  "idleTimeoutSeconds)")
        if not self.idle_timeout_seconds < self.alb_idle_timeout_seconds:
            raise ValueError(f"idleTimeoutSeconds ({self.idle_timeout_seconds}) must be lower than "
                             f"albIdleTimeoutSeconds ({self.alb_idle_timeout_seconds})")
        return self


class Deployment(_Model):
    strategy: DeploymentStrategy = "CANARY"
    # The seeds' first step is 5 %; ECS allows 0.1-100 in steps of 0.1, we allow 1-5 for a canary.
    canary_percent: float = Field(default=5.0, ge=1.0, le=5.0)
    canary_bake_minutes: int = Field(default=10, ge=0, le=1440)
    step_percent: float = Field(default=25.0, ge=3.0, le=100.0)
    step_bake_minutes: int = Field(default=6, ge=0, le=1440)
    bake_time_minutes: int = Field(default=15, ge=0, le=1440)

    @field_validator("canary_percent", "step_percent")
    @classmethod
    def _tenths(cls, value: float) -> float:
        if not is_multiple_of_tenth(value):
            raise ValueError("must be a multiple of 0.1 (ECS canaryPercent/stepPercent)")
        return value


class Alarms(_Model):
    error_rate_percent: float = Field(default=5.0, gt=0, le=100)
    p95_latency_ms: int = Field(default=1000, ge=10, le=60_000)


class Tracing(_Model):
    enabled: bool = True
    sampling_ratio: float | None = Field(default=None, ge=0.0, le=1.0)


class Logs(_Model):
    retention_days: int | None = None
    # LOG_LEVEL of every app; None: the environment's default (defaults.py).
    level: LogLevel | None = None

    @field_validator("retention_days")
    @classmethod
    def _cloudwatch_period(cls, value: int | None) -> int | None:
        problem = log_retention_problem(value) if value is not None else None
        if problem:
            raise ValueError(problem)
        return value


class Capacity(_Model):
    """Default capacity provider strategy of the cluster (FARGATE + FARGATE_SPOT)."""

    on_demand_base: int = Field(ge=0, le=100000)
    on_demand_weight: int = Field(ge=0, le=1000)
    spot_weight: int = Field(ge=0, le=1000)
    # Tasks placed on FARGATE_SPOT before the weights split the rest: a warm standby's resting task.
    spot_base: int = Field(default=0, ge=0, le=100000)

    @model_validator(mode="after")
    def _some_weight(self) -> Capacity:
        if self.on_demand_weight + self.spot_weight == 0:
            raise ValueError("onDemandWeight and spotWeight cannot both be 0")
        # CapacityProviderStrategyItem (botocore ECS model): "Only one capacity provider in a strategy can have a
        # base defined" and "Capacity providers with weight of 0 cannot place tasks" (read as: base included).
        if self.on_demand_base and self.spot_base:
            raise ValueError("onDemandBase and spotBase cannot both be above 0: ECS allows a base on one provider")
        if self.spot_base and not self.spot_weight:
            raise ValueError("spotBase needs spotWeight 1 or more: a provider of weight 0 places no task")
        return self


class Failover(_Model):
    primary_stack: Annotated[str, matching(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}", "<organization>/<project>/<stack>, each letters, digits, '_', '.' or '-'")] | None = None
    # Default: the health path of the routed service with the lowest listener rule priority, under its
    # path prefix (the ALB forwards the full path; see resolve_health_check_path).
    health_check_path: Annotated[str, aws_rule(health_path_problem)] | None = None
    health_check_interval_seconds: Literal[10, 30] = 10
    failure_threshold: int = Field(default=3, ge=1, le=10)
    health_check_regions: tuple[str, ...] = ("eu-west-1", "us-east-1", "us-west-2")
    rto_objective_minutes: float = Field(default=DEFAULT_RTO_OBJECTIVE_MINUTES, gt=0, le=1440)
    # Terms of the Region switch plan's RTO (foundation/rto.py, docs/failover.md "RTO"): replace the
    # estimates with what a drill measured.
    decision_minutes: float = Field(default=DEFAULT_DECISION_MINUTES, ge=0, le=240)
    approval: bool | None = None
    approval_minutes: float = Field(default=DEFAULT_APPROVAL_MINUTES, ge=0, le=240)
    scale_up_minutes: float = Field(default=DEFAULT_SCALE_UP_MINUTES, gt=0, le=240)
    database_switch_minutes: float = Field(default=DEFAULT_DATABASE_SWITCH_MINUTES, gt=0, le=240)
    # Aurora PostgreSQL managed RPO (rds.global_db_rpo) of global databases, and the lag alarms' threshold.
    rpo_seconds: int = Field(default=DEFAULT_RPO_SECONDS, ge=GLOBAL_DB_RPO_MIN_SECONDS, le=3600)
    # Warm standby: tasks each service runs in a standby until the plan raises it (default 1; 0 is a pilot
    # light, for a staging standby whose database should pause: docs/failover.md "Pilot light in staging").
    standby_min_tasks: dict[str, int] = Field(default_factory=dict)
    # Whether the pair's data replicates (DynamoDB global tables, Aurora global databases), so that the plan
    # moves database writers and outboxes; both stacks of a pair say the same (default: prod replicates).
    replicate_data: bool | None = None
    # Reader instances of a standby's secondary database clusters: 0 is headless (storage only, no compute),
    # for a non-prod standby between rehearsals; a drill raises it to 1 first (docs/failover.md "Rehearsal
    # in staging"), as Aurora promotes an instance, not a volume.
    standby_database_readers: Literal[0, 1] = 1

    @field_validator("standby_min_tasks")
    @classmethod
    def _standby_minimums(cls, value: dict[str, int]) -> dict[str, int]:
        low = {name: count for name, count in value.items() if not 0 <= count <= 100}
        if low:
            raise ValueError(f"{low}: a standby runs 0-100 tasks of a service")
        return value

    @field_validator("health_check_regions")
    @classmethod
    def _three_checkers(cls, regions: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [r for r in regions if r not in HEALTH_CHECKER_REGIONS]
        if unknown:
            raise ValueError(f"{unknown} are not Route 53 health checker regions; allowed: {list(HEALTH_CHECKER_REGIONS)}")
        if len(set(regions)) != len(regions):
            raise ValueError("each health checker region may be listed once")
        if len(set(regions)) < HEALTH_CHECKER_REGIONS_MIN:
            raise ValueError(f"Route 53 needs at least {HEALTH_CHECKER_REGIONS_MIN} distinct health checker regions")
        return regions


class CostControls(_Model):
    """Account-wide cost allocation tags and cost anomaly alerts; exactly one stack per account owns them."""

    owner: bool = False
    anomaly_threshold_usd: float = Field(default=20, gt=0, le=100_000)
    # First-run traps (README "Deploy-time traps"): activating a tag key fails until the key has appeared
    # in billing data (up to 24 h after the first tagged resource) and outside the management account of
    # an organization; so it is a second step, switched on once the keys are listed.
    activate_tags: bool = False
    # The account's existing AWS services monitor (DIMENSIONAL, SERVICE), e.g. the one AWS sets up for new
    # accounts: the subscriptions use it and no second monitor is created.
    existing_monitor_arn: Annotated[str, matching(
        r"arn:aws[a-z-]*:ce::\d{12}:anomalymonitor/[0-9a-f-]{36}",
        "an anomaly monitor ARN, arn:aws:ce::<account>:anomalymonitor/<uuid>")] | None = None


class RegistryReplication(_Model):
    owner: bool = False
    repository_prefixes: tuple[Annotated[str, matching(
        r"[a-z0-9][a-z0-9._/-]*", "an ECR repository name prefix such as prod/ (lowercase)")], ...] = ()


# A plain mailbox address (RFC 5321 length; no display names, quoting or IP literals), as a Budgets
# EMAIL subscriber takes it.
EmailAddress = Annotated[str, Field(max_length=254), matching(
    r"[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}",
    "a plain address such as oncall@example.com")]


def _each_address_once(emails: tuple[str, ...]) -> tuple[str, ...]:
    # Budgets refuses a duplicate subscriber; SNS would subscribe the address twice.
    if len({e.lower() for e in emails}) != len(emails):
        raise ValueError("each address may be listed once")
    return emails


EmailAddresses = Annotated[tuple[EmailAddress, ...], AfterValidator(_each_address_once)]


class BudgetApproval(_Model):
    """A recorded approval to exceed the budget up to amountEur; the stack-budget policy then reports the
    overrun as advisory. Carried as tags on the AWS budget, so AWS tag-value characters only."""

    amount_eur: float = Field(gt=0, le=1_000_000)
    reason: Annotated[str, Field(min_length=20, max_length=256), AfterValidator(aws_tag_value)]
    approver: TagValue


class Budget(_Model):
    # Budgets takes the USD amount in cents; under 1 EUR it could round to 0, which is no budget.
    monthly_eur: float = Field(ge=1, le=1_000_000)
    alert_emails: EmailAddresses = Field(
        default=(), max_length=10, description="Budgets allow at most 10 email subscribers per notification")
    approval: BudgetApproval | None = None
    # At ACTUAL 100 % cap every service at its minimum (components/cost/budget_scale_down.py); staging only.
    scale_down_on_breach: bool = False

    @property
    def watched_eur(self) -> float:
        """The spend the AWS budget watches: the approved amount where there is one, else monthlyEur (a
        limit below the expected spend would notify every month and mean nothing)."""
        return self.approval.amount_eur if self.approval is not None else self.monthly_eur

    @model_validator(mode="after")
    def _approval_above_budget(self) -> Budget:
        if self.approval is not None and self.approval.amount_eur <= self.monthly_eur:
            raise ValueError(f"approval.amountEur ({self.approval.amount_eur:g}) must exceed monthlyEur "
                             f"({self.monthly_eur:g}); an approval covers an overrun")
        return self


def https_url(value: str) -> str:
    """An https:// URL SNS can deliver to: a host name, no spaces."""
    parts = urllib.parse.urlsplit(value)
    if parts.scheme != "https" or not parts.hostname or any(c.isspace() for c in value):
        raise ValueError("must be an https:// URL with a host name, such as https://events.pager.example/hook")
    return value


class Alerts(_Model):
    """Who the stack's alert topic notifies: e-mail subscribers (each confirms once) and one optional
    HTTPS endpoint (a pager's webhook)."""

    emails: EmailAddresses = ()
    https_endpoint: Annotated[str, Field(max_length=2048), AfterValidator(https_url)] | None = None


class Slo(_Model):
    """Service level objectives of every service of the stack (components/observability/slo.py)."""

    p95_latency_ms: float = Field(default=DEFAULT_P95_MS, gt=0, le=60_000)
    p99_latency_ms: float = Field(default=DEFAULT_P99_MS, gt=0, le=60_000)
    error_rate_percent: float = Field(default=DEFAULT_ERROR_RATE_PERCENT, gt=0, le=100)
    min_requests_per_minute: int = Field(default=DEFAULT_MIN_REQUESTS_PER_MINUTE, ge=1, le=1_000_000)
    cpu_percent: float = Field(default=DEFAULT_CPU_PERCENT, gt=0, le=100)
    memory_percent: float = Field(default=DEFAULT_MEMORY_PERCENT, gt=0, le=100)
    error_log_lines_per_5_minutes: int = Field(default=DEFAULT_ERROR_LOG_LINES_PER_5_MINUTES, ge=1, le=1_000_000)

    @model_validator(mode="after")
    def _p95_within_p99(self) -> Slo:
        if self.p95_latency_ms > self.p99_latency_ms:
            raise ValueError(f"p95LatencyMs ({self.p95_latency_ms:g}) cannot exceed p99LatencyMs "
                             f"({self.p99_latency_ms:g})")
        return self

    def targets(self) -> SloTargets:
        return SloTargets(**self.model_dump())


class Audit(_Model):
    """The account's CloudTrail trail and Access Analyzer: exactly one stack per account owns them."""

    owner: bool = False
    # Regions where the account already has its one external-access analyzer (type ACCOUNT): the program
    # creates none there (a second one fails to create), and the existing one keeps judging the region.
    existing_analyzer_regions: tuple[Region, ...] = ()


class StackConfig(_Model):
    """The `microservices-foundation:*` keys of one stack, after project defaults are applied."""

    environment: Environment
    role: Role
    network: Network
    dns: Dns | None = None
    tags: CostTags
    budget: Budget
    services: Services
    service_connect: ServiceConnect = ServiceConnect()
    deployment: Deployment = Deployment()
    alarms: Alarms = Alarms()
    tracing: Tracing = Tracing()
    logs: Logs = Logs()
    capacity: Capacity | None = None
    failover: Failover = Failover()
    registry_replication: RegistryReplication = RegistryReplication()
    cost_controls: CostControls = CostControls()
    # Usage the cost estimate assumes (GB through NAT, LCUs, log GB, ...): docs/cost-model.md.
    cost_assumptions: UsageAssumptions = UsageAssumptions()
    alerts: Alerts = Alerts()
    slo: Slo = Slo()
    audit: Audit = Audit()
    legacy: Legacy | None = None
    load_balancers: LoadBalancers = LoadBalancers()
    # Raised AWS quotas of this stack's account: {quota key in platform/quotas.yaml: value}. Checked
    # against the quota table by foundation.settings.quotas (adjustable quotas only).
    quotas: dict[Annotated[str, Field(pattern=r"^[a-z][A-Za-z0-9]*$")], Annotated[int, Field(ge=1)]] = Field(
        default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _cost_assumptions_floors(cls, data: object) -> object:
        # Usage assumptions are held to their environment's floors (policies/cost/assumptions.py FLOORS), the
        # same ones the stack-budget policy applies, so the preview and the pack price the same figure.
        if isinstance(data, dict) and isinstance(data.get("costAssumptions", {}), dict):
            environment, role = data.get("environment"), data.get("role")
            data = {**data, "costAssumptions": assumptions_for(data.get("costAssumptions") or {},
                                                               environment if isinstance(environment, str) else None,
                                                               role if isinstance(role, str) else None)}
        return data

    @model_validator(mode="after")
    def _per_environment_rules(self) -> StackConfig:
        if not (self.alerts.emails or self.alerts.https_endpoint):
            raise ValueError("alerts.emails or alerts.httpsEndpoint is required in every stack: the alarms that "
                             "page must reach someone")
        if ENVIRONMENT_DEFAULTS[self.environment].requires_service_connect_tls and not self.service_connect.tls:
            raise ValueError(f"serviceConnect.tls must be true in {self.environment} (Service Connect TLS is "
                             "required there)")
        if ENVIRONMENT_DEFAULTS[self.environment].replicate_data and self.failover.replicate_data is False:
            raise ValueError(f"failover.replicateData must be true in {self.environment} (the Aurora global database "
                             "and global tables the regional failover needs are required there)")
        if self.budget.scale_down_on_breach and self.environment != "staging":
            raise ValueError(f"budget.scaleDownOnBreach is allowed only in staging (got environment "
                             f"{self.environment!r}): it caps every service at its minimum task count")
        if self.cost_controls.owner and not self.budget.alert_emails:
            raise ValueError("costControls.owner needs budget.alertEmails: the anomaly subscription sends its daily "
                             "summary there")
        if self.role == "standby" and self.failover.primary_stack is None:
            raise ValueError("failover.primaryStack is required for a standby stack (org/project/stack)")
        if self.role == "primary" and self.failover.primary_stack is not None:
            raise ValueError("failover.primaryStack is only for standby stacks")
        return self
