"""StackSettings: the resolved, immutable view of one stack the program builds from (config + catalog)."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from components.core.types import REGION_OF_ROLE, Environment, Region, Role
from components.core.validation import task_count_problem
from components.cost.stack_budget import budget_name_problem
from components.data.names import PLATFORM_CONFIG_KEYS, task_config
from components.data.spec import DataAndEvents, DynamoDbData, PostgresData
from components.events.documents import outbox_pipe_name
from components.failover.dns_failover import HEALTH_CHECK_RESOURCE_PATH_MAX_LENGTH, READINESS_PATH
from components.mesh_service.args import ServiceDefinition
from components.mesh_service.client_policy import client_policy_problems
from components.mesh_service.protocol import protocol_problem
from components.mesh_service.sizing import SizingError, TaskSize, task_size
from foundation.rto import FailoverConfigError, FailoverTime, PlanTime, RpoBound, failover_time, plan_time
from foundation.settings.base import ConfigError, format_validation_error, json_or_text, shortened, shown_value
from foundation.settings.base import Model as _Model
from foundation.settings.catalog import PROJECT_DIR, Catalog
from foundation.settings.defaults import ENVIRONMENT_DEFAULTS, EnvironmentDefaults
from foundation.settings.legacy import LegacyPlan, resolve_legacy
from foundation.settings.load_balancers import routed_shards
from foundation.settings.stack_config import Capacity, Failover, ServiceOverride, StackConfig
from policies.cost.prices import PriceFileError, load_prices

PROJECT = "microservices-foundation"
# Catalog keys that describe a service's data and events; they are not part of ServiceDefinition.
DATA_AND_EVENTS_KEYS = set(DataAndEvents.model_fields)
PRICES_FILE = PROJECT_DIR / "platform" / "prices.yaml"
LOG_LEVEL_KEY = "LOG_LEVEL"


class StackSettings(_Model):
    stack: str
    project: str
    region: Region
    account_id: str | None
    config: StackConfig
    services: tuple[ServiceDefinition, ...]
    secret_keys: tuple[str, ...] = ()
    legacy: LegacyPlan = LegacyPlan()
    # Every catalog service's data and events (also of services this stack does not run: a subscription
    # names its publisher whether or not the publisher runs here).
    data_and_events: dict[str, DataAndEvents] = Field(default_factory=dict)

    @property
    def defaults(self) -> EnvironmentDefaults:
        return ENVIRONMENT_DEFAULTS[self.environment]

    @property
    def replicate_data(self) -> bool:
        """Whether the pair replicates its data (`failover.replicateData`, default: the environment's)."""
        replicate = self.config.failover.replicate_data
        return self.defaults.replicate_data if replicate is None else replicate

    @property
    def environment(self) -> Environment:
        return self.config.environment

    @property
    def role(self) -> Role:
        return self.config.role

    @property
    def primary_stack_name(self) -> str:
        """The stack a standby's failover.primaryStack names (`<organization>/<project>/<stack>`)."""
        reference = self.config.failover.primary_stack
        if reference is None:
            raise ConfigError(f"stack '{self.stack}': failover.primaryStack is required of a standby")
        return reference.rsplit("/", 1)[-1]

    @property
    def health_check_path(self) -> str:
        """The failover health check's path, which settings resolve for every stack (resolve_health_check_path)."""
        path = self.config.failover.health_check_path
        if path is None:
            raise ConfigError(f"stack '{self.stack}': failover.healthCheckPath was not resolved")
        return path

    @property
    def capacity(self) -> Capacity:
        if self.config.capacity is not None:
            return self.config.capacity
        default = self.defaults.capacity
        return Capacity(on_demand_base=default.on_demand_base, on_demand_weight=default.on_demand_weight,
                        spot_weight=default.spot_weight)

    @property
    def log_retention_days(self) -> int:
        return self.config.logs.retention_days or self.defaults.log_retention_days

    @property
    def trace_sampling_ratio(self) -> float:
        ratio = self.config.tracing.sampling_ratio
        return self.defaults.trace_sampling_ratio if ratio is None else ratio

    @property
    def log_level(self) -> str:
        return log_level_of(self.config)

    @property
    def name_prefix(self) -> str:
        """Prefix of the stack's alarms, dashboards, topics and rules: the stack name, unique in the account
        (dashboards are global, and every stack puts its failover alarm in us-east-1)."""
        return self.stack

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
        """The AWS budget's monthly limit in USD (Budgets count USD): the spend it watches, converted."""
        return round(self.config.budget.watched_eur * eur_to_usd(), 2)

    def task_size(self, service: str) -> TaskSize:
        """The Fargate size a service's task gets: app + tracing sidecar + Service Connect proxy."""
        spec = self.service(service)
        return task_size(spec.name, spec.cpu, spec.memory, self.config.tracing.enabled)

    def failover_time(self) -> FailoverTime:
        """The failover time the health check and DNS wiring imply (raises if over the objective)."""
        failover = self.config.failover
        return failover_time(failover.health_check_interval_seconds, failover.failure_threshold,
                             failover.rto_objective_minutes)

    @property
    def failover_liveness_path(self) -> str:
        """The health path of the service whose readiness the failover checks request: what a standby's own
        check probes, since a warm standby is alive but not ready until its database is the writer."""
        service = self.failover_checked_service
        if service is not None:
            return f"{service.path_prefix}{service.health_path}"
        return self.config.failover.health_check_path or ""

    @property
    def failover_checked_service(self) -> ServiceDefinition | None:
        """The service under whose path prefix the failover checks request (None for a path outside them)."""
        path = self.config.failover.health_check_path or ""
        return next((s for s in self.services if s.path_prefix and path.startswith(f"{s.path_prefix}/")), None)

    @property
    def has_own_liveness_check(self) -> bool:
        """Whether the stack checks its own liveness: a standby whose checked service runs tasks at rest. In a
        pilot light that service runs none until the plan raises it, so the check could only fail and its
        alarm never leave ALARM."""
        if self.role != "standby" or self.config.dns is None:
            return False
        service = self.failover_checked_service
        return service is None or service.min_tasks > 0

    @property
    def plan_approval(self) -> bool:
        """Whether a person approves each Region switch execution (`failover.approval`, default: prod)."""
        approval = self.config.failover.approval
        return self.environment == "prod" if approval is None else approval

    @property
    def global_database_services(self) -> tuple[str, ...]:
        """Services whose PostgreSQL database is an Aurora global database (replicated environments)."""
        if not self.replicate_data:
            return ()
        return tuple(s.name for s in self.services if isinstance(self.data_and_events[s.name].data, PostgresData))

    @property
    def replicated_table_services(self) -> tuple[str, ...]:
        """Services whose DynamoDB table is a global table (replicated environments)."""
        if not self.replicate_data:
            return ()
        return tuple(s.name for s in self.services if isinstance(self.data_and_events[s.name].data, DynamoDbData))

    @property
    def outbox_pipe_names(self) -> tuple[str, ...]:
        return tuple(outbox_pipe_name(self.environment, s.name) for s in self.services
                     if self.data_and_events[s.name].has_outbox)

    def plan_time(self) -> PlanTime:
        """The RTO the Region switch plan implies (raises FailoverConfigError over the objective)."""
        failover = self.config.failover
        return plan_time(
            request_interval_seconds=failover.health_check_interval_seconds,
            failure_threshold=failover.failure_threshold, decision_minutes=failover.decision_minutes,
            approval_minutes=failover.approval_minutes if self.plan_approval else None,
            scale_up_minutes=failover.scale_up_minutes,
            database_switch_minutes=failover.database_switch_minutes if self.global_database_services else None,
            outbox=bool(self.outbox_pipe_names), dns=self.config.dns is not None,
            rto_objective_minutes=failover.rto_objective_minutes)

    def rpo_bound(self) -> RpoBound:
        seconds = self.config.failover.rpo_seconds
        return RpoBound(aurora_seconds=seconds if self.global_database_services else None,
                        dynamodb_alarm_seconds=seconds if self.replicated_table_services else None)

    @property
    def alb_shards(self) -> tuple[tuple[ServiceDefinition, ...], ...]:
        """The routed services of each public ALB of the region, first ALB first (docs/scale.md)."""
        return routed_shards(self.services, self.config.load_balancers.max_routed_services_per_alb)

    def repository_name(self, service: str) -> str:
        return f"{self.environment}/{service}"

    def service(self, name: str) -> ServiceDefinition:
        return next(s for s in self.services if s.name == name)


# --- loading -------------------------------------------------------------------------------------

@functools.cache
def eur_to_usd(path: Path = PRICES_FILE) -> float:
    """AWS budgets count USD; the stack states EUR. The rate is price data in platform/prices.yaml, which is
    validated whole (policies/cost/prices.py, shared with the cost estimate and the budget policy)."""
    try:
        return load_prices(path).currency.eur_to_usd
    except PriceFileError as err:
        raise ConfigError(str(err)) from None


def _account_id(stack: str, value: Any) -> str | None:
    """`aws:allowedAccountIds`: a list of exactly one 12-digit account id, which the provider enforces, the
    ARNs use and the rules across stacks (one registry replication owner per account) group by."""
    if value is None:
        raise ConfigError(f"stack '{stack}': aws:allowedAccountIds is required: the list of the one 12-digit AWS "
                          "account this stack deploys to, e.g. [\"123456789012\"]")
    accounts = json_or_text(value)
    if (not isinstance(accounts, list) or len(accounts) != 1
            or not re.fullmatch(r"\d{12}", str(accounts[0]))):
        raise ConfigError(f"stack '{stack}': aws:allowedAccountIds = {shown_value(accounts)} is not allowed; "
                          "give a list of exactly one 12-digit AWS account id, e.g. [\"123456789012\"]")
    return str(accounts[0])


def resolve_stack_settings(stack: str, raw_config: dict[str, Any], catalog: Catalog,
                           secret_keys: tuple[str, ...] = (), project: str = PROJECT) -> StackSettings:
    """Validate the stack's full config map ({"ns:key": value}) against the models and the catalog. The
    checks that read the resolved settings as a whole (AWS quotas) follow in checked_settings."""
    prefix = f"{project}:"
    ours = {key[len(prefix):]: json_or_text(value) for key, value in raw_config.items() if key.startswith(prefix)}
    try:
        config = StackConfig.model_validate(ours)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, f"stack '{stack}'", prefix=prefix)) from None

    region = raw_config.get("aws:region")
    expected_region = REGION_OF_ROLE[config.role]
    if region is None:
        raise ConfigError(f"stack '{stack}': aws:region is required; a {config.role} stack runs in {expected_region}")
    if region not in REGION_OF_ROLE.values():
        raise ConfigError(f"stack '{stack}': aws:region = {shortened(repr(region))} is not supported; "
                          f"allowed: {sorted(REGION_OF_ROLE.values())}")
    if region != expected_region:
        raise ConfigError(f"stack '{stack}': aws:region = {shortened(repr(region))} does not fit {prefix}role = {config.role!r}; "
                          f"a {config.role} stack runs in {expected_region}")
    account_id = _account_id(stack, raw_config.get("aws:allowedAccountIds"))
    problem = budget_name_problem(f"{project}-{stack}")
    if problem:
        raise ConfigError(f"stack '{stack}': the project name (Pulumi.yaml) and stack name give a {problem}")

    services = _resolve_services(stack, config, catalog, prefix)
    with_data = {name: entry.data for name, entry in catalog.services.items() if entry.data is not None}
    failover = config.failover.model_copy(
        update={"health_check_path": resolve_health_check_path(stack, config.failover, services, prefix, with_data)})
    unknown = sorted(set(config.failover.standby_min_tasks) - {s.name for s in services})
    if unknown:
        raise ConfigError(f"stack '{stack}': {prefix}failover.standbyMinTasks names {unknown}, which this stack "
                          f"does not run; allowed: {[s.name for s in services]}")
    dark = sorted(name for name, count in config.failover.standby_min_tasks.items() if count == 0)
    if dark and config.environment == "prod":
        # Prod's RTO counts on a running task the plan only scales out (docs/failover.md); outside prod the
        # traffic gate keeps DNS on the primary until the plan has started the tasks.
        raise ConfigError(f"stack '{stack}': {prefix}failover.standbyMinTasks sets {dark} to 0 (pilot light); "
                          "allowed only in a non-prod standby, 1-100 here")
    legacy = resolve_legacy(stack, config.legacy, catalog, config.services.enabled, region, account_id, prefix)
    settings = StackSettings(stack=stack, project=project, region=region, account_id=account_id,
                             config=config.model_copy(update={"failover": failover}), services=services,
                             secret_keys=secret_keys, legacy=legacy,
                             data_and_events={name: DataAndEvents.model_validate(
                                 entry.model_dump(include=DATA_AND_EVENTS_KEYS))
                                 for name, entry in catalog.services.items()})
    if config.failover.standby_database_readers == 0 and (
            settings.environment == "prod" or settings.role != "standby" or not settings.replicate_data):
        # Prod's RTO counts on a reader Aurora can promote at once (docs/failover.md "RTO").
        raise ConfigError(f"stack '{stack}': {prefix}failover.standbyDatabaseReaders = 0 (headless secondary "
                          "databases) is allowed only in a non-prod standby with failover.replicateData: true; "
                          "allowed here: 1")
    # The recovery objective binds only stacks with DNS failover; without a record nothing fails over.
    if config.dns is not None:
        try:
            settings.failover_time()
        except FailoverConfigError as error:
            raise ConfigError(f"stack '{stack}': {error}") from None
        for shard in settings.alb_shards[1:]:
            if not any(s.protocol == "http" for s in shard):
                raise ConfigError(f"stack '{stack}': the ALB of {[s.name for s in shard]} has no http service for its "
                                  "Route 53 health check (HTTP/1.1); raise "
                                  f"{prefix}loadBalancers.maxRoutedServicesPerAlb or route an http service with them")
    try:
        settings.plan_time()
    except FailoverConfigError as error:
        raise ConfigError(f"stack '{stack}': {error}") from None
    for service in settings.services:
        try:
            settings.task_size(service.name)
        except SizingError as error:
            raise ConfigError(f"stack '{stack}': {prefix}services.overrides.{service.name} cpu/memory "
                              f"(or platform/services.yaml) cannot run on Fargate: {error}") from None
    return settings


def log_level_of(config: StackConfig) -> str:
    """The stack's log level: `logs.level`, else the environment's default."""
    return config.logs.level or ENVIRONMENT_DEFAULTS[config.environment].log_level


def _resolve_services(stack: str, config: StackConfig, catalog: Catalog, prefix: str) -> tuple[ServiceDefinition, ...]:
    def fail(key: str, value: Any, allowed: str) -> ConfigError:
        return ConfigError(f"stack '{stack}': {prefix}{key} = {shortened(repr(value))} is not allowed; {allowed}")

    enabled = config.services.enabled
    for name in enabled:
        if name not in catalog.services:
            raise fail("services.enabled", name, f"allowed: {sorted(catalog.services)} (platform/services.yaml)")
    if len(set(enabled)) != len(enabled):
        raise fail("services.enabled", list(enabled), "each service may be listed once")
    for name in config.services.overrides:
        if name not in enabled:
            raise fail(f"services.overrides.{name}", name, f"overrides apply to enabled services {list(enabled)}")

    specs: list[ServiceDefinition] = []
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
        merged = entry.model_dump(exclude={*DATA_AND_EVENTS_KEYS, "legacy_function", "routes"}) | {
            k: v for k, v in override.model_dump().items() if v is not None}
        if LOG_LEVEL_KEY in merged["config"]:
            raise fail(f"services.{name}.config.{LOG_LEVEL_KEY}", merged["config"][LOG_LEVEL_KEY],
                       "the log level is the stack's (logs.level, default per environment), not the catalog's")
        # The application learns its table, database, bus and queues through the same config mechanism.
        data_config = task_config(config.environment, name,
                                  DataAndEvents.model_validate(entry.model_dump(include=DATA_AND_EVENTS_KEYS)))
        clash = sorted((set(data_config) | set(PLATFORM_CONFIG_KEYS)) & set(merged["config"]))
        if clash:
            raise fail(f"services.{name}.config", clash, "these keys are set by the platform from data/publishes/"
                                                         "subscribes (platform/services.yaml); rename them")
        # Every app reads LOG_LEVEL from its plain config: the stack's level, so a stack can change it.
        merged["config"] = {**merged["config"], **data_config, LOG_LEVEL_KEY: log_level_of(config)}
        if config.role == "standby":
            # Warm standby: a small minimum until the Region switch plan raises it (docs/failover.md).
            merged["min_tasks"] = config.failover.standby_min_tasks.get(name, 1)
            merged["standby"] = True
        problem = task_count_problem(merged["min_tasks"], merged["max_tasks"],
                                     lowest=0 if config.role == "standby" else 1)
        if problem:
            raise fail(f"services.overrides.{name}.maxTasks", merged["max_tasks"], problem)
        merged["client"] = entry.client.policy()
        protocol = protocol_problem(entry.protocol, entry.health_path, routed=entry.path_prefix is not None,
                                    https_listener=config.dns is not None)
        catalog_problems = (client_policy_problems(merged["client"], config.service_connect.client_timeout_seconds)
                            or ([protocol] if protocol else []))
        if catalog_problems:
            raise ConfigError(f"stack '{stack}': platform/services.yaml services.{name} "
                              f"(client, protocol) cannot run here: {'; '.join(catalog_problems)}")
        try:
            specs.append(ServiceDefinition(name=name, **merged))
        except ValueError as error:
            raise fail(f"services.overrides.{name}", override.model_dump(by_alias=True, exclude_none=True),
                       str(error)) from None
    return tuple(specs)


def resolve_health_check_path(stack: str, failover: Failover, services: tuple[ServiceDefinition, ...],
                              prefix: str, data: Mapping[str, Any] | None = None) -> str:
    """The path the Route 53 failover health check requests on the ALB. It must reach an enabled routed
    service: the ALB only forwards `<pathPrefix>` and `<pathPrefix>/*`, so anything else meets the
    listener's fixed 404 and the region would count as down forever.

    Default: the readiness path (`<pathPrefix>/ready`) of the routed service with data, a PostgreSQL
    database first (its readiness follows the writer), lowest rule priority first; without a routed
    service with data, the health path of the routed service with the lowest priority."""
    # Route 53 checks speak HTTP/1.1, which reaches only `http` services (HTTP2/GRPC target groups take
    # HTTP/2 or gRPC requests).
    routed = sorted((s for s in services if s.path_prefix and s.protocol == "http"),
                    key=lambda s: s.listener_rule_priority or 0)
    if not routed:
        raise ConfigError(f"stack '{stack}': no enabled http service has a pathPrefix, so the ALB answers every "
                          f"HTTP/1.1 request with 404 and {prefix}failover.healthCheckPath cannot reach a service")
    data = data or {}
    with_data = sorted((s for s in routed if s.name in data),
                       key=lambda s: (not isinstance(data[s.name], PostgresData), s.listener_rule_priority or 0))
    default = (f"{with_data[0].path_prefix}{READINESS_PATH}" if with_data
               else f"{routed[0].path_prefix}{routed[0].health_path}")
    path = failover.health_check_path or default
    if len(path) > HEALTH_CHECK_RESOURCE_PATH_MAX_LENGTH:
        raise ConfigError(
            f"stack '{stack}': {prefix}failover.healthCheckPath = {shown_value(path)} is not allowed: Route 53 "
            f"health checks request at most {HEALTH_CHECK_RESOURCE_PATH_MAX_LENGTH} characters (set it, or shorten "
            f"pathPrefix + healthPath of '{routed[0].name}' in platform/services.yaml)")
    if not any(path == s.path_prefix or path.startswith(f"{s.path_prefix}/") for s in routed):
        raise ConfigError(
            f"stack '{stack}': {prefix}failover.healthCheckPath = {shortened(repr(path))} is not allowed: it must be under the "
            f"path prefix of an enabled routed service ({', '.join(s.path_prefix or '' for s in routed)}), or the "
            "ALB answers it with 404")
    return path
