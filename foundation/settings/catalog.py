"""The service catalog (platform/services.yaml): which services exist, their sizes, routes and call graph."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationError, field_validator, model_validator

from components.core.types import AppProtocol, Architecture
from components.core.validation import (
    config_secret_clash_problem,
    health_path_problem,
    path_prefix_problem,
    plain_config_problem,
    raise_problem,
    service_name_problem,
    task_count_problem,
)
from components.data.spec import DataAndEvents, event_graph_problems
from components.events.documents import PIPE_FILTER_PATTERN_MAX, event_pattern, outbox_filter
from components.legacy.legacy_route import legacy_name_problem
from components.mesh_service.client_policy import ClientPolicy
from components.mesh_service.protocol import protocol_problem
from foundation.settings.base import ConfigError, checked_plain_values, format_validation_error, matching
from foundation.settings.base import Model as _Model
from foundation.settings.event_schemas import check_event_schemas, schemas_dir
from foundation.settings.yaml_files import load_yaml, read_text

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent
CATALOG_FILE = PROJECT_DIR / "platform" / "services.yaml"


def catalog_file(project_dir: Path) -> Path:
    return project_dir / CATALOG_FILE.relative_to(PROJECT_DIR)


def aws_rule(problem: Callable[[Any], str | None]) -> AfterValidator:
    """A components.core.validation rule as a pydantic validator: an AWS limit reported against the config key."""
    def check(value: Any) -> Any:
        raise_problem(problem(value))
        return value
    return AfterValidator(check)


ServiceName = Annotated[str, aws_rule(service_name_problem)]
_HTTP_PREFIX = r"/[a-z0-9/_-]+[a-z0-9]"
# gRPC requests go to /<package>.<Service>/<Method>: a routed grpc service's prefix is its proto service.
_GRPC_PREFIX = r"/[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*\.[A-Z][A-Za-z0-9_]*"
_DEFAULT_CLIENT = ClientPolicy()
_ROUTE = r"(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) /([A-Za-z0-9._~-]+|\{[a-zA-Z][a-zA-Z0-9_]*\})(/([A-Za-z0-9._~-]+|\{[a-zA-Z][a-zA-Z0-9_]*\}))*"


class ClientBlock(_Model):
    """The service's outbound-call policy (components/mesh_service/client_policy.py); defaults are the seeds'."""

    max_attempts: int = Field(default=_DEFAULT_CLIENT.max_attempts, ge=1, le=5)
    backoff_min_ms: int = Field(default=_DEFAULT_CLIENT.backoff_min_ms, ge=1, le=10_000)
    backoff_max_ms: int = Field(default=_DEFAULT_CLIENT.backoff_max_ms, ge=1, le=10_000)
    per_try_timeout_ms: int = Field(default=_DEFAULT_CLIENT.per_try_timeout_ms, ge=1, le=3_600_000)
    retry_statuses: tuple[Annotated[int, Field(ge=500, le=599)], ...] = Field(
        default=_DEFAULT_CLIENT.retry_statuses, min_length=1)
    breaker_failure_percent: int = Field(default=_DEFAULT_CLIENT.breaker_failure_percent, ge=1, le=100)
    breaker_min_requests: int = Field(default=_DEFAULT_CLIENT.breaker_min_requests, ge=1, le=3600)
    breaker_window_seconds: int = Field(default=_DEFAULT_CLIENT.breaker_window_seconds, ge=1, le=3600)
    breaker_cooldown_seconds: int = Field(default=_DEFAULT_CLIENT.breaker_cooldown_seconds, ge=1, le=3600)

    @model_validator(mode="after")
    def _policy(self) -> ClientBlock:
        self.policy()  # ClientPolicy refuses what components/mesh_service/client_policy.py does not allow
        return self

    def policy(self) -> ClientPolicy:
        return ClientPolicy(**self.model_dump())


class CatalogService(DataAndEvents):
    """A service's size, route, calls and secrets; its `data`, `publishes` and `subscribes` come from
    DataAndEvents (components/data/spec.py)."""

    @model_validator(mode="before")
    @classmethod
    def _plain_values(cls, data: Any) -> Any:
        return checked_plain_values(cls, data)

    port: int = Field(ge=1024, le=65535)
    # Product rule: lowercase paths; AWS's listener-pattern limit comes from components.core.validation.
    path_prefix: Annotated[str, matching(f"{_HTTP_PREFIX}|{_GRPC_PREFIX}", "a lowercase path such as /api/auth (for a "
                                         "grpc service its proto service, such as /ledger.v1.Ledger)"),
                           aws_rule(path_prefix_problem)] | None = None
    health_path: Annotated[str, aws_rule(health_path_problem)]
    cpu: int = Field(ge=128, le=16384, description="CPU units the application container needs")
    memory: int = Field(ge=128, le=122880, description="MiB the application container needs")
    architecture: Architecture = "ARM64"
    # Fargate Spot stops a task on two minutes' notice. A service that loses nothing then (short requests,
    # idempotent consumers) says so and runs on the stack's Spot share; any other runs on FARGATE only,
    # whatever the stack's capacity strategy (docs/cost-model.md, "Spot").
    interruptible: bool = False
    min_tasks: int = Field(ge=1, le=100)
    max_tasks: int = Field(ge=1, le=1000)
    listener_rule_priority: int | None = Field(default=None, ge=1, le=50000)
    calls: tuple[ServiceName, ...] = ()
    secrets: tuple[Annotated[str, matching(r"[a-z0-9][a-z0-9-]{0,62}",
                                           "1-63 lowercase letters, digits or hyphens, such as database-url")], ...] = ()
    config: dict[Annotated[str, matching(r"[A-Z][A-Z0-9_]*", "an environment variable name such as LOG_LEVEL")], str] = \
        Field(default_factory=dict)
    # The existing Lambda function (a logical name; each stack's `legacy.functions` gives its ARN) whose
    # route this service takes over, step by step (foundation/settings/legacy.py).
    legacy_function: Annotated[str, aws_rule(legacy_name_problem)] | None = None
    # What the service speaks on its port: Service Connect appProtocol, ALB protocol version, health checks.
    protocol: AppProtocol = "http"
    client: ClientBlock = Field(default_factory=ClientBlock)
    # The calls the service answers, "METHOD /path/{param}": callers' contract tests check their calls
    # against them (templates/service/tests/contract_check.py). Contract data only; nothing is deployed.
    routes: tuple[Annotated[str, matching(_ROUTE, "a route such as 'GET /api/auth/keys/{keyId}'")], ...] = ()

    @field_validator("calls", "secrets")
    @classmethod
    def _listed_once(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        # A repeated callee would repeat its security-group rule, a repeated secret its Secrets Manager
        # secret: AWS refuses both as duplicates.
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"{repeated} listed more than once; list each name once")
        return names

    @field_validator("routes")
    @classmethod
    def _routes_once(cls, routes: tuple[str, ...]) -> tuple[str, ...]:
        repeated = sorted({route for route in routes if routes.count(route) > 1})
        if repeated:
            raise ValueError(f"{repeated} listed more than once")
        return routes

    @field_validator("config")
    @classmethod
    def _ssm_values(cls, config: dict[str, str]) -> dict[str, str]:
        for key, value in config.items():
            raise_problem(plain_config_problem(key, value))
        return config

    @model_validator(mode="after")
    def _scaling_and_routing(self) -> CatalogService:
        problem = task_count_problem(self.min_tasks, self.max_tasks)
        if problem:
            raise ValueError(problem)
        if (self.path_prefix is None) != (self.listener_rule_priority is None):
            raise ValueError("pathPrefix and listenerRulePriority go together: a routed service needs both")
        raise_problem(config_secret_clash_problem(self.config, self.secrets))
        if self.legacy_function is not None and self.path_prefix is None:
            raise ValueError("legacyFunction needs a pathPrefix: only an ALB route can be split with a Lambda")
        # The listener is each stack's: settings check the HTTPS side (foundation/settings/stack_settings.py).
        raise_problem(protocol_problem(self.protocol, self.health_path, routed=False, https_listener=True))
        if self.path_prefix is not None:
            pattern = _GRPC_PREFIX if self.protocol == "grpc" else _HTTP_PREFIX
            if not re.fullmatch(pattern, self.path_prefix):
                raise ValueError(f"pathPrefix {self.path_prefix} does not fit protocol {self.protocol}: "
                                 + ("a grpc service is routed by its proto service, such as /ledger.v1.Ledger"
                                    if self.protocol == "grpc" else "a lowercase path such as /api/auth"))
            outside = [r for r in self.routes if not (r.split(" ", 1)[1] == self.path_prefix
                                                      or r.split(" ", 1)[1].startswith(f"{self.path_prefix}/"))]
            if outside:
                raise ValueError(f"routes {outside} are not under pathPrefix {self.path_prefix}")
            if self.legacy_function is not None and self.protocol != "http":
                raise ValueError("legacyFunction splits an HTTP/1.1 route with a Lambda; the service must be http")
        return self


class Catalog(_Model):
    services: dict[ServiceName, CatalogService] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Catalog:
        for name, service in self.services.items():
            if name in service.calls:
                raise ValueError(f"services.{name}.calls names {name} itself; a service calls others through "
                                 "Service Connect, itself in process")
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
        for name, service in self.services.items():
            for other, other_service in self.services.items():
                if (service.path_prefix and other_service.path_prefix and other != name
                        and other_service.path_prefix.startswith(f"{service.path_prefix}/")):
                    raise ValueError(f"services.{name}.pathPrefix {service.path_prefix} would swallow the routes "
                                     f"of {other} ({other_service.path_prefix}); prefixes must not nest")
        problems = event_graph_problems(self.services)
        if problems:
            raise ValueError("; ".join(problems))
        for name, service in self.services.items():
            _check_event_documents(name, service)
        return self


def _check_event_documents(name: str, service: CatalogService) -> None:
    """The EventBridge documents the catalog entry becomes stay within AWS's sizes: each subscription's
    rule pattern (PutRule EventPattern) and the outbox pipe's filter (CreatePipe FilterCriteria Pattern)."""
    for i, subscription in enumerate(service.subscribes):
        try:
            event_pattern(subscription.source, subscription.detail_types)  # checks PutRule's size
        except ValueError as error:
            raise ValueError(f"services.{name}.subscribes[{i}].detailTypes: {error}; split the subscription or "
                             "shorten the detail types") from None
    if service.publishes:
        outbox = json.dumps(outbox_filter(service.publishes))
        if len(outbox) > PIPE_FILTER_PATTERN_MAX:
            raise ValueError(f"services.{name}.publishes make an outbox filter of {len(outbox)} characters; "
                             f"EventBridge Pipes allow {PIPE_FILTER_PATTERN_MAX} per filter pattern")


def load_catalog(path: Path = CATALOG_FILE) -> Catalog:
    catalog = _validated_catalog(path, read_text(path, "the service catalog"))
    # The schemas beside the catalog: subscriptions need one, and none may break its subscribers.
    check_event_schemas(catalog.services, schemas_dir(path))
    return catalog


@functools.lru_cache(maxsize=8)
def _validated_catalog(path: Path, text: str) -> Catalog:
    """Validated once per content: a run loads the catalog for its stack and again for the rules across
    stacks, and the offline preview loads its stack before the program does, each validating every service
    (a ConfigError is raised again each time: exceptions are not cached). The catalog is frozen."""
    raw = load_yaml(path, "the service catalog", text=text)
    try:
        return Catalog.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, f"service catalog {path.name}", prefix="")) from None
