"""The strangler fig in settings: which legacy Lambda functions a stack puts behind its ALB, and how much
of each migrating service's route ECS serves (components/legacy/legacy_route.py, docs/strangler-fig.md).

The catalog says which legacy function a service replaces (`legacyFunction`, a logical name); each stack
says where that function is (`legacy.functions`, an ARN in the stack's region and account), which one
answers what no service routes (`legacy.defaultFunction`) and the ECS share of each migrating route
(`legacy.ecsWeights`, 0-100; absent means 100: ECS serves the whole route and its canary owns it).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from components.legacy.legacy_route import function_arn_problem, legacy_name_problem
from foundation.settings.base import ConfigError
from foundation.settings.base import Model as _Model
from foundation.settings.catalog import Catalog, ServiceName, aws_rule

LegacyName = Annotated[str, aws_rule(legacy_name_problem)]


class Legacy(_Model):
    """The stack's `legacy` key."""

    functions: dict[LegacyName, str] = Field(min_length=1)
    default_function: LegacyName | None = None
    ecs_weights: dict[ServiceName, Annotated[int, Field(ge=0, le=100)]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _default_is_known(self) -> Legacy:
        if self.default_function is not None and self.default_function not in self.functions:
            raise ValueError(f"defaultFunction {self.default_function!r} is not in functions "
                             f"{sorted(self.functions)}")
        return self


class ServiceSplit(_Model):
    """One service's route, split between ECS and the legacy function it replaces."""

    function: str
    ecs_weight: int
    priority: int


class LegacyPlan(_Model):
    """What the stack builds: the functions in use, the default action's function, the splits."""

    functions: dict[str, str] = Field(default_factory=dict)
    default_function: str | None = None
    splits: dict[str, ServiceSplit] = Field(default_factory=dict)


def resolve_legacy(stack: str, legacy: Legacy | None, catalog: Catalog, enabled: tuple[str, ...], region: str,
                   account_id: str | None, prefix: str) -> LegacyPlan:
    path = f"{prefix}legacy"
    key = f"stack '{stack}': {path}"
    if legacy is None:
        return LegacyPlan()
    for name, arn in legacy.functions.items():
        problem = function_arn_problem(arn, region, account_id)
        if problem:
            raise ConfigError(f"{key}.functions.{name} = {arn!r} is not allowed: it {problem}")
    splits = {}
    priorities = {s.listener_rule_priority: n for n, s in catalog.services.items() if s.listener_rule_priority}
    for service, weight in legacy.ecs_weights.items():
        entry = catalog.services.get(service)
        if service not in enabled or entry is None or entry.legacy_function is None:
            raise ConfigError(f"{key}.ecsWeights.{service} is not allowed: weights apply to enabled services whose "
                              "catalog entry names the legacyFunction they replace (platform/services.yaml)")
        if weight == 100:
            continue
        if entry.legacy_function not in legacy.functions:
            raise ConfigError(f"{key}.ecsWeights.{service} = {weight} needs {path}.functions."
                              f"{entry.legacy_function} (the function {service} replaces)")
        priority = (entry.listener_rule_priority or 0) - 1
        if priority in priorities or priority < 1:
            raise ConfigError(f"{key}.ecsWeights.{service}: the split rule takes priority {priority}, just in "
                              f"front of {service}'s {entry.listener_rule_priority}, which "
                              f"{priorities.get(priority, 'AWS')} already uses; move one listenerRulePriority")
        splits[service] = ServiceSplit(function=entry.legacy_function, ecs_weight=weight, priority=priority)
    used = {s.function for s in splits.values()} | ({legacy.default_function} if legacy.default_function else set())
    return LegacyPlan(functions={n: arn for n, arn in legacy.functions.items() if n in used},
                      default_function=legacy.default_function, splits=splits)
