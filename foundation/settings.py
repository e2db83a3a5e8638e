"""Typed stack settings: Pulumi config + the service catalog, validated before any resource exists.

Everything the program knows about a stack passes through `StackSettings`. A bad value stops the
program with one `ConfigError` naming the key, the value and what is allowed.
"""

from __future__ import annotations

import functools
import ipaddress
import json
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel

from components.dns_failover import HEALTH_CHECKER_REGIONS, HEALTH_CHECKER_REGIONS_MIN
from components.registry_replication import ReplicationStackFacts, replication_problems
from components.sizing import SizingError, TaskSize, task_size
from components.validation import (is_multiple_of_tenth, log_retention_problem, task_count_problem,
                                   timeout_problems)
from foundation.rto import DEFAULT_RTO_OBJECTIVE_MINUTES, FailoverConfigError, FailoverTime, failover_time

PROJECT = "microservices-foundation"
PROJECT_DIR = Path(__file__).resolve().parent.parent
CATALOG_FILE = PROJECT_DIR / "platform" / "services.yaml"
PRICES_FILE = PROJECT_DIR / "platform" / "prices.yaml"

PRIMARY_REGION = "eu-central-1"
STANDBY_REGION = "eu-west-1"
REGION_OF_ROLE = {"primary": PRIMARY_REGION, "standby": STANDBY_REGION}



class ConfigError(Exception):
    """A stack configuration that the program refuses to deploy."""


class _Model(BaseModel):
    """camelCase keys as in Pulumi config, unknown keys rejected, values immutable."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")]


# --- the service catalog (platform/services.yaml) -------------------------------------------------

class CatalogService(_Model):
    port: int = Field(ge=1024, le=65535)
    path_prefix: Optional[str] = Field(default=None, pattern=r"^/[a-z0-9/_-]+[a-z0-9]$")
    health_path: str = Field(pattern=r"^/[A-Za-z0-9/_.-]*$")
    cpu: int = Field(ge=128, le=16384, description="CPU units the application container needs")
    memory: int = Field(ge=128, le=122880, description="MiB the application container needs")
    architecture: Literal["ARM64", "X86_64"] = "ARM64"
    min_tasks: int = Field(ge=1, le=100)
    max_tasks: int = Field(ge=1, le=1000)
    listener_rule_priority: Optional[int] = Field(default=None, ge=1, le=50000)
    calls: tuple[Name, ...] = ()
    secrets: tuple[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")], ...] = ()
    config: dict[Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$")], str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _scaling_and_routing(self) -> "CatalogService":
        problem = task_count_problem(self.min_tasks, self.max_tasks)
        if problem:
            raise ValueError(problem)
        if (self.path_prefix is None) != (self.listener_rule_priority is None):
            raise ValueError("pathPrefix and listenerRulePriority go together: a routed service needs both")
        return self


class Catalog(_Model):
    services: dict[Name, CatalogService]

    @model_validator(mode="after")
    def _consistent(self) -> "Catalog":
        for name, service in self.services.items():
            unknown = [c for c in service.calls if c not in self.services]
            if unknown:
                raise ValueError(f"services.{name}.calls names {unknown}, which are not in the catalog "
                                 f"(known: {sorted(self.services)})")
        seen: dict[int, str] = {}
        prefixes: dict[str, str] = {}
        for name, service in self.services.items():
            if service.listener_rule_priority is not None:
                other = seen.setdefault(service.listener_rule_priority, name)
                if other != name:
                    raise ValueError(f"services.{name}.listenerRulePriority {service.listener_rule_priority} "
                                     f"is already used by {other}; priorities must be unique per listener")
            if service.path_prefix is not None:
                other = prefixes.setdefault(service.path_prefix, name)
                if other != name:
                    raise ValueError(f"services.{name}.pathPrefix {service.path_prefix} is already used by {other}")
        return self


# --- per-stack configuration (Pulumi.<stack>.yaml) -----------------------------------------------

class Network(_Model):
    vpc_cidr: ipaddress.IPv4Network
    az_count: int = Field(default=3, ge=2, le=3)
    nat_strategy: Literal["none", "single", "one-per-az"] = "single"
    endpoint_az_count: int = Field(default=2, ge=1, le=3, description="AZs the interface endpoints live in")

    @field_validator("vpc_cidr")
    @classmethod
    def _vpc_sized(cls, cidr: ipaddress.IPv4Network) -> ipaddress.IPv4Network:
        # AWS allows /16 to /28; the VPC is cut into eighths (a /21 each from a /18), and smaller
        # subnets would leave too few addresses for tasks, endpoints and ALB nodes.
        if not 16 <= cidr.prefixlen <= 18:
            raise ValueError(f"must be a /16 to /18 network (got /{cidr.prefixlen})")
        if not cidr.is_private:
            raise ValueError("must be a private (RFC 1918) range")
        return cidr

    @model_validator(mode="after")
    def _endpoints_within_azs(self) -> "Network":
        if self.endpoint_az_count > self.az_count:
            raise ValueError(f"endpointAzCount ({self.endpoint_az_count}) cannot exceed azCount ({self.az_count})")
        return self


class Dns(_Model):
    domain: str = Field(max_length=253, pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
    hosted_zone_id: str = Field(pattern=r"^Z[A-Z0-9]{1,31}$")
    api_subdomain: str = Field(default="api", pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")

    @property
    def api_name(self) -> str:
        return f"{self.api_subdomain}.{self.domain}"


class CostTags(_Model):
    cost_center: str = Field(min_length=1, max_length=256)
    owner: str = Field(min_length=1, max_length=256)


class ServiceOverride(_Model):
    image: Optional[str] = Field(default=None, pattern=r"^(sha256:[a-f0-9]{64}|[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$")
    cpu: Optional[int] = Field(default=None, ge=128, le=16384)
    memory: Optional[int] = Field(default=None, ge=128, le=122880)
    architecture: Optional[Literal["ARM64", "X86_64"]] = None
    min_tasks: Optional[int] = Field(default=None, ge=1, le=100)
    max_tasks: Optional[int] = Field(default=None, ge=1, le=1000)


class Services(_Model):
    enabled: tuple[Name, ...] = Field(min_length=1)
    overrides: dict[Name, ServiceOverride] = Field(default_factory=dict)


class ServiceConnect(_Model):
    tls: bool = True
    # The layers time out from the inside out: the app's own HTTP client gives up first, then the
    # Service Connect proxy per request, then the proxy's idle connection, then the ALB.
    client_timeout_seconds: int = Field(default=2, ge=1, le=3600)
    per_request_timeout_seconds: int = Field(default=3, ge=1, le=3600)
    idle_timeout_seconds: int = Field(default=60, ge=1, le=3600)
    alb_idle_timeout_seconds: int = Field(default=120, ge=1, le=4000)

    @model_validator(mode="after")
    def _timeouts_nest(self) -> "ServiceConnect":
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
    strategy: Literal["CANARY", "LINEAR"] = "CANARY"
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
    sampling_ratio: Optional[float] = Field(default=None, ge=0.0, le=1.0)


class Logs(_Model):
    retention_days: Optional[int] = None

    @field_validator("retention_days")
    @classmethod
    def _cloudwatch_period(cls, value: Optional[int]) -> Optional[int]:
        problem = log_retention_problem(value) if value is not None else None
        if problem:
            raise ValueError(problem)
        return value


class Capacity(_Model):
    """Default capacity provider strategy of the cluster (FARGATE + FARGATE_SPOT)."""

    on_demand_base: int = Field(ge=0, le=100000)
    on_demand_weight: int = Field(ge=0, le=1000)
    spot_weight: int = Field(ge=0, le=1000)

    @model_validator(mode="after")
    def _some_weight(self) -> "Capacity":
        if self.on_demand_weight + self.spot_weight == 0:
            raise ValueError("onDemandWeight and spotWeight cannot both be 0")
        return self


DEFAULT_CAPACITY = {
    # Staging leans on Spot (about 70 % cheaper) and accepts interruptions; prod keeps an
    # on-demand base per service so that a Spot reclaim never takes the last task.
    "staging": Capacity(on_demand_base=0, on_demand_weight=1, spot_weight=3),
    "prod": Capacity(on_demand_base=2, on_demand_weight=1, spot_weight=1),
}
DEFAULT_LOG_RETENTION = {"staging": 30, "prod": 365}
DEFAULT_SAMPLING = {"staging": 1.0, "prod": 0.1}


class Failover(_Model):
    primary_stack: Optional[str] = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
    # Default: the health path of the routed service with the lowest listener rule priority, under its
    # path prefix (the ALB forwards the full path; see resolve_health_check_path).
    health_check_path: Optional[str] = Field(default=None, pattern=r"^/[A-Za-z0-9/_.-]*$")
    health_check_interval_seconds: Literal[10, 30] = 10
    failure_threshold: int = Field(default=3, ge=1, le=10)
    health_check_regions: tuple[str, ...] = ("eu-west-1", "us-east-1", "us-west-2")
    rto_objective_minutes: float = Field(default=DEFAULT_RTO_OBJECTIVE_MINUTES, gt=0, le=1440)

    @field_validator("health_check_regions")
    @classmethod
    def _three_checkers(cls, regions: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [r for r in regions if r not in HEALTH_CHECKER_REGIONS]
        if unknown:
            raise ValueError(f"{unknown} are not Route 53 health checker regions; allowed: {list(HEALTH_CHECKER_REGIONS)}")
        if len(set(regions)) < HEALTH_CHECKER_REGIONS_MIN:
            raise ValueError(f"Route 53 needs at least {HEALTH_CHECKER_REGIONS_MIN} distinct health checker regions")
        return regions


class RegistryReplication(_Model):
    owner: bool = False
    repository_prefixes: tuple[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._/-]*$")], ...] = ()


class Budget(_Model):
    monthly_eur: float = Field(gt=0, le=1_000_000)
    alert_emails: tuple[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")], ...] = Field(
        default=(), max_length=10, description="Budgets allow at most 10 email subscribers per notification")


class StackConfig(_Model):
    """The `microservices-foundation:*` keys of one stack, after project defaults are applied."""

    environment: Literal["staging", "prod"]
    role: Literal["primary", "standby"]
    network: Network
    dns: Optional[Dns] = None
    tags: CostTags
    budget: Budget
    services: Services
    service_connect: ServiceConnect = ServiceConnect()
    deployment: Deployment = Deployment()
    alarms: Alarms = Alarms()
    tracing: Tracing = Tracing()
    logs: Logs = Logs()
    capacity: Optional[Capacity] = None
    failover: Failover = Failover()
    registry_replication: RegistryReplication = RegistryReplication()

    @model_validator(mode="after")
    def _per_environment_rules(self) -> "StackConfig":
        if self.environment == "prod" and not self.service_connect.tls:
            raise ValueError("serviceConnect.tls must be true in prod (Service Connect TLS is required there)")
        if self.role == "standby" and self.failover.primary_stack is None:
            raise ValueError("failover.primaryStack is required for a standby stack (org/project/stack)")
        if self.role == "primary" and self.failover.primary_stack is not None:
            raise ValueError("failover.primaryStack is only for standby stacks")
        return self


# --- the resolved, immutable view the program builds from ----------------------------------------

class ServiceSpec(_Model):
    """One catalog service as it runs in this stack (catalog + stack overrides)."""

    name: str
    port: int
    path_prefix: Optional[str]
    health_path: str
    cpu: int
    memory: int
    architecture: Literal["ARM64", "X86_64"]
    min_tasks: int
    max_tasks: int
    listener_rule_priority: Optional[int]
    calls: tuple[str, ...]
    secrets: tuple[str, ...]
    config: dict[str, str]
    image: str


class StackSettings(_Model):
    stack: str
    project: str
    region: Literal["eu-central-1", "eu-west-1"]
    account_id: Optional[str]
    config: StackConfig
    services: tuple[ServiceSpec, ...]
    secret_keys: tuple[str, ...] = ()

    @property
    def environment(self) -> str:
        return self.config.environment

    @property
    def role(self) -> str:
        return self.config.role

    @property
    def capacity(self) -> Capacity:
        return self.config.capacity or DEFAULT_CAPACITY[self.environment]

    @property
    def log_retention_days(self) -> int:
        return self.config.logs.retention_days or DEFAULT_LOG_RETENTION[self.environment]

    @property
    def trace_sampling_ratio(self) -> float:
        ratio = self.config.tracing.sampling_ratio
        return DEFAULT_SAMPLING[self.environment] if ratio is None else ratio

    @property
    def default_tags(self) -> dict[str, str]:
        return {
            "environment": self.environment,
            "cost-center": self.config.tags.cost_center,
            "owner": self.config.tags.owner,
            "managed-by": "pulumi",
            "project": self.project,
            "region-role": self.role,
        }

    @property
    def monthly_budget_usd(self) -> float:
        return round(self.config.budget.monthly_eur * eur_to_usd(), 2)

    def task_size(self, service: str) -> TaskSize:
        """The Fargate size a service's task gets: app + tracing sidecar + Service Connect proxy."""
        spec = self.service(service)
        return task_size(spec.name, spec.cpu, spec.memory, self.config.tracing.enabled)

    def failover_time(self) -> FailoverTime:
        """The failover time the health check and DNS wiring imply (raises if over the objective)."""
        failover = self.config.failover
        return failover_time(failover.health_check_interval_seconds, failover.failure_threshold,
                             failover.rto_objective_minutes)

    def repository_name(self, service: str) -> str:
        return f"{self.environment}/{service}"

    def service(self, name: str) -> ServiceSpec:
        return next(s for s in self.services if s.name == name)


# --- loading -------------------------------------------------------------------------------------

@functools.cache
def eur_to_usd(path: Path = PRICES_FILE) -> float:
    """AWS budgets count USD; the stack states EUR. The rate is price data in platform/prices.yaml."""
    return float(yaml.safe_load(path.read_text())["currency"]["eurToUsd"])


def load_catalog(path: Path = CATALOG_FILE) -> Catalog:
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"cannot read the service catalog {path}: {err}") from None
    try:
        return Catalog.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, f"service catalog {path.name}", prefix="")) from None


def _decode(value: Any) -> Any:
    """Pulumi hands structured config to programs as JSON text and scalars as strings."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def settings_from_config(stack: str, raw_config: dict[str, Any], catalog: Catalog,
                         secret_keys: tuple[str, ...] = (), project: str = PROJECT) -> StackSettings:
    """Validate the stack's full config map ({"ns:key": value}) against the models and the catalog."""
    prefix = f"{project}:"
    ours = {key[len(prefix):]: _decode(value) for key, value in raw_config.items() if key.startswith(prefix)}
    try:
        config = StackConfig.model_validate(ours)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, f"stack '{stack}'", prefix=prefix)) from None

    region = raw_config.get("aws:region")
    expected_region = REGION_OF_ROLE[config.role]
    if region not in REGION_OF_ROLE.values():
        raise ConfigError(f"stack '{stack}': aws:region = {region!r} is not supported; "
                          f"allowed: {sorted(REGION_OF_ROLE.values())}")
    if region != expected_region:
        raise ConfigError(f"stack '{stack}': aws:region = {region!r} does not fit {prefix}role = {config.role!r}; "
                          f"a {config.role} stack runs in {expected_region}")
    accounts = _decode(raw_config.get("aws:allowedAccountIds")) or []
    account_id = str(accounts[0]) if isinstance(accounts, list) and len(accounts) == 1 else None

    services = _resolve_services(stack, config, catalog, prefix)
    failover = config.failover.model_copy(
        update={"health_check_path": resolve_health_check_path(stack, config.failover, services, prefix)})
    settings = StackSettings(stack=stack, project=project, region=region, account_id=account_id,
                             config=config.model_copy(update={"failover": failover}), services=services,
                             secret_keys=secret_keys)
    try:
        settings.failover_time()
    except FailoverConfigError as error:
        raise ConfigError(f"stack '{stack}': {error}") from None
    for service in settings.services:
        try:
            settings.task_size(service.name)
        except SizingError as error:
            raise ConfigError(f"stack '{stack}': {prefix}services.overrides.{service.name} cpu/memory "
                              f"(or platform/services.yaml) cannot run on Fargate: {error}") from None
    return settings


def _resolve_services(stack: str, config: StackConfig, catalog: Catalog, prefix: str) -> tuple[ServiceSpec, ...]:
    def fail(key: str, value: Any, allowed: str) -> ConfigError:
        return ConfigError(f"stack '{stack}': {prefix}{key} = {value!r} is not allowed; {allowed}")

    enabled = config.services.enabled
    for name in enabled:
        if name not in catalog.services:
            raise fail("services.enabled", name, f"allowed: {sorted(catalog.services)} (platform/services.yaml)")
    if len(set(enabled)) != len(enabled):
        raise fail("services.enabled", list(enabled), "each service may be listed once")
    for name in config.services.overrides:
        if name not in enabled:
            raise fail(f"services.overrides.{name}", name, f"overrides apply to enabled services {list(enabled)}")

    specs = []
    for name in enabled:
        entry = catalog.services[name]
        override = config.services.overrides.get(name, ServiceOverride())
        missing_callee = [c for c in entry.calls if c not in enabled]
        if missing_callee:
            raise fail("services.enabled", list(enabled),
                       f"'{name}' calls {missing_callee} (platform/services.yaml), so they must be enabled too")
        if override.image is None:
            raise ConfigError(f"stack '{stack}': {prefix}services.overrides.{name}.image is missing; "
                              "set the image tag or digest (sha256:...) to deploy from the service's ECR repository")
        merged = entry.model_dump() | {k: v for k, v in override.model_dump().items() if v is not None}
        problem = task_count_problem(merged["min_tasks"], merged["max_tasks"])
        if problem:
            raise fail(f"services.overrides.{name}.maxTasks", merged["max_tasks"], problem)
        specs.append(ServiceSpec(name=name, **merged))
    return tuple(specs)


def resolve_health_check_path(stack: str, failover: Failover, services: tuple[ServiceSpec, ...],
                              prefix: str) -> str:
    """The path the Route 53 failover health check requests on the ALB. It must reach an enabled routed
    service: the ALB only forwards `<pathPrefix>` and `<pathPrefix>/*`, so anything else meets the
    listener's fixed 404 and the region would count as down forever."""
    routed = sorted((s for s in services if s.path_prefix), key=lambda s: s.listener_rule_priority)
    if not routed:
        raise ConfigError(f"stack '{stack}': no enabled service has a pathPrefix, so the ALB answers every "
                          f"request with 404 and {prefix}failover.healthCheckPath cannot reach a service")
    path = failover.health_check_path or f"{routed[0].path_prefix}{routed[0].health_path}"
    if not any(path == s.path_prefix or path.startswith(f"{s.path_prefix}/") for s in routed):
        raise ConfigError(
            f"stack '{stack}': {prefix}failover.healthCheckPath = {path!r} is not allowed: it must be under the "
            f"path prefix of an enabled routed service ({', '.join(s.path_prefix for s in routed)}), or the "
            "ALB answers it with 404")
    return path


def format_validation_error(err: ValidationError, where: str, prefix: str) -> str:
    """One line per problem: the key as written in config, the offending value, what is allowed."""
    lines = []
    for problem in err.errors(include_url=False):
        key = ".".join(str(part) for part in problem["loc"] if part not in ("function-after",))
        value = problem.get("input")
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            lines.append(f"{where}: unknown key {prefix}{key}; check the spelling against the config reference in README.md")
        elif problem["type"] == "missing":
            lines.append(f"{where}: {prefix}{key} is required")
        else:
            shown = json.dumps(value, default=str) if not isinstance(value, dict) else "{...}"
            lines.append(f"{where}: {prefix}{key} = {shown} is not allowed: {message}")
    return "\n".join(lines)


# --- reading config the way Pulumi does ----------------------------------------------------------

class StackFile(_Model):
    """What a `Pulumi.<stack>.yaml` holds, with Pulumi's secure values replaced by a marker."""

    stack: str
    config: dict[str, Any]
    secret_keys: tuple[str, ...]


SECRET_MARKER = "[secret]"


def _namespaced(key: str, project: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def read_project_defaults(project_dir: Path = PROJECT_DIR) -> tuple[str, dict[str, Any]]:
    """Project name and project-level config from Pulumi.yaml (`default:` or `value:` entries)."""
    project_file = yaml.safe_load((project_dir / "Pulumi.yaml").read_text())
    project = project_file["name"]
    defaults = {}
    for key, entry in (project_file.get("config") or {}).items():
        if isinstance(entry, dict) and ("default" in entry or "value" in entry):
            value = entry.get("value", entry.get("default"))
        elif isinstance(entry, dict):
            continue  # a declaration without a value: the stack must set it
        else:
            value = entry
        defaults[_namespaced(key, project)] = value
    return project, defaults


def read_stack_file(stack: str, project_dir: Path = PROJECT_DIR) -> StackFile:
    """Merge project defaults and `Pulumi.<stack>.yaml` into Pulumi's wire form (strings, JSON objects)."""
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.exists():
        known = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))
        raise ConfigError(f"no stack '{stack}': {path.name} does not exist (stacks: {known})")
    project, merged = read_project_defaults(project_dir)
    try:
        stack_config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path.name} is not valid YAML: {err}") from None
    secret_keys = []
    for key, value in stack_config.items():
        full_key = _namespaced(key, project)
        if isinstance(value, dict) and set(value) == {"secure"}:
            value = SECRET_MARKER  # cannot be decrypted offline; shown, never used
            secret_keys.append(full_key)
        merged[full_key] = value
    wire = {k: v if isinstance(v, str) else json.dumps(v) for k, v in merged.items()}
    return StackFile(stack=stack, config=wire, secret_keys=tuple(secret_keys))


def list_stacks(project_dir: Path = PROJECT_DIR) -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))


def check_across_stacks(settings: StackSettings, project_dir: Path = PROJECT_DIR) -> None:
    """Rules that span the stack files of this project (all `Pulumi.<stack>.yaml` live side by side):
    the VPC CIDRs of one environment's regions must not overlap; in each AWS account exactly one stack
    owns ECR replication, with prefixes covering every repository; a standby runs only services its
    primary runs (their images and secrets come from the primary) and serves the primary's API name."""
    catalog = load_catalog(project_dir / "platform" / "services.yaml")
    peers, invalid = [settings], []
    for other in list_stacks(project_dir):
        if other == settings.stack:
            continue
        try:
            peers.append(settings_from_config(other, read_stack_file(other, project_dir).config, catalog))
        except ConfigError:
            invalid.append(other)  # that stack's own run reports its problems

    def fail(message: str) -> ConfigError:
        skipped = f" (not compared: {invalid}, whose own config is invalid)" if invalid else ""
        return ConfigError(f"stack '{settings.stack}': {message}{skipped}")

    for peer in peers[1:]:
        if peer.environment != settings.environment or peer.region == settings.region:
            continue
        if settings.config.network.vpc_cidr.overlaps(peer.config.network.vpc_cidr):
            raise fail(f"{settings.project}:network.vpcCidr = '{settings.config.network.vpc_cidr}' overlaps "
                       f"stack '{peer.stack}' ({peer.region}, {peer.config.network.vpc_cidr}); the regions of "
                       "one environment need disjoint CIDRs")
    same_account = [p for p in peers if p.account_id == settings.account_id]
    problems = replication_problems(ReplicationStackFacts(
        stack=p.stack, account_id=p.account_id or "unknown", environment=p.environment, region=p.region,
        role=p.role, is_replication_owner=p.config.registry_replication.owner,
        repository_prefixes=p.config.registry_replication.repository_prefixes,
        repository_names=tuple(p.repository_name(s.name) for s in p.services)) for p in same_account)
    if problems:
        raise fail(f"{settings.project}:registryReplication: " + "; ".join(problems))
    if settings.role == "standby":
        primary_name = settings.config.failover.primary_stack.rsplit("/", 1)[-1]
        primary = next((p for p in peers if p.stack == primary_name), None)
        if primary is not None:
            _check_standby_fits_primary(settings, primary, fail)


def _check_standby_fits_primary(standby: StackSettings, primary: StackSettings, fail) -> None:
    key = f"{standby.project}:"
    if primary.role != "primary" or primary.environment != standby.environment:
        raise fail(f"{key}failover.primaryStack names '{primary.stack}', a {primary.environment} "
                   f"{primary.role} stack; it must be the {standby.environment} primary")
    missing = sorted({s.name for s in standby.services} - {s.name for s in primary.services})
    if missing:
        raise fail(f"{key}services.enabled runs {missing}, which the primary '{primary.stack}' does not run: "
                   "their images and secrets are replicated from the primary, so enable them there first")
    standby_dns, primary_dns = standby.config.dns, primary.config.dns
    if standby_dns is not None and (primary_dns is None or standby_dns != primary_dns):
        shown = primary_dns.model_dump(by_alias=True) if primary_dns else None
        raise fail(f"{key}dns = {standby_dns.model_dump(by_alias=True)} must equal the primary's dns ({shown}): "
                   "the standby serves the primary's API name as its SECONDARY record")


def load_from_pulumi() -> StackSettings:
    """Inside `pulumi up`/`preview` (or the offline preview): read the stack's config through
    `pulumi.Config`, exactly as Pulumi passed it. The full key list comes from the SDK's config store
    so that a misspelled key is reported instead of silently ignored."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    keys = set(runtime_config.get_config_env()) | set(runtime_config.CONFIG.get())
    raw = {}
    for key in keys:
        namespace, _, name = key.partition(":")
        raw[key] = pulumi.Config(namespace).get(name)
    secret_keys = tuple(sorted(k for k in keys if runtime_config.is_config_secret(k)))
    settings = settings_from_config(pulumi.get_stack(), raw, load_catalog(), secret_keys, pulumi.get_project())
    check_across_stacks(settings)
    return settings
