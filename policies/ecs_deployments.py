"""ECS deployments roll back automatically, and canaries stay small.

``ecs-deployment-rollback``: which mechanism applies depends on
``deploymentConfiguration.strategy`` (default ``ROLLING``):

* ``ROLLING``: ``deploymentCircuitBreaker`` with ``enable`` and ``rollback`` true. The ECS API
  reference says the circuit breaker is for rolling updates.
* ``BLUE_GREEN``, ``CANARY``, ``LINEAR``: AWS sources conflict on whether the circuit breaker
  applies (API reference: rolling only; developer guide: rolling and blue/green; canary console
  offers it). CloudWatch alarm rollback is documented for all three, so the policy requires
  ``alarms`` with ``enable`` and ``rollback`` true and at least one alarm name, and neither
  requires nor forbids the circuit breaker.
* ``CODE_DEPLOY``/``EXTERNAL`` deployment controllers handle rollback outside ECS: not judged.

``ecs-canary-percent``: with strategy ``CANARY``,
``deploymentConfiguration.canaryConfiguration.canaryPercent`` (AWS default 5.0 when absent) must
lie within ``[minPercent, maxPercent]`` (default 1-5).

An alarm name that is empty or blank names no alarm, so it does not count: a list of blank names
rolls nothing back.

Unknown values: strategy, enable/rollback flags and canaryPercent are literals in any sane
program; unknown ones cannot be verified and are reported. Unknown alarm names (names of alarms the
program creates) are deferred to ``pulumi up``, which judges the known names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .framework import Finding, NotJudged, PolicySpec, ResourceView, deferred
from .values import as_list, get_path, is_unknown, shown

SERVICE = frozenset({"aws:ecs/service:Service"})
ALARM_STRATEGIES = {"BLUE_GREEN", "CANARY", "LINEAR"}


def _strategy(resource: ResourceView) -> Any:
    controller = get_path(resource.props, "deploymentController", "type", default="ECS")
    if not is_unknown(controller) and controller != "ECS":
        raise NotJudged(f"deployment controller {controller} handles rollback outside ECS")
    return get_path(resource.props, "deploymentConfiguration", "strategy", default="ROLLING")


def check_deployment_rollback(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    strategy = _strategy(resource)
    if is_unknown(strategy):
        return [Finding("deploymentConfiguration.strategy is unknown during preview, so the rollback mechanism "
                        "cannot be verified. Use a literal strategy.")]
    if strategy in ALARM_STRATEGIES:
        alarms = resource.props.get("alarms")
        enable, rollback = get_path(alarms, "enable"), get_path(alarms, "rollback")
        raw_names = get_path(alarms, "alarmNames")
        names = [n for n in as_list(raw_names) if is_unknown(n) or (isinstance(n, str) and n.strip())]
        blank = len(as_list(raw_names)) - len(names)
        known = [n for n in names if not is_unknown(n)]
        if enable is True and rollback is True and known and not blank:
            return []
        if enable is True and rollback is True and names and not blank:
            return [deferred("alarms.alarmNames are unknown during preview")]
        blank_note = f" ({blank} of them blank, which name no alarm)" if blank else ""
        return [Finding(
            f"strategy {strategy} relies on CloudWatch alarms for automatic rollback (the circuit breaker is "
            f"documented for rolling updates), but alarms.enable is {shown(enable)}, alarms.rollback is "
            f"{shown(rollback)} and {len(as_list(raw_names))} alarm name(s) are set{blank_note}. Set "
            "alarms={'enable': True, 'rollback': True, 'alarm_names': [<5xx / unhealthy-target alarms>]}.")]
    breaker = resource.props.get("deploymentCircuitBreaker")
    enable, rollback = get_path(breaker, "enable"), get_path(breaker, "rollback")
    if enable is True and rollback is True:
        return []
    return [Finding(
        f"strategy {strategy} needs the deployment circuit breaker to stop and roll back failing deployments, but "
        f"deploymentCircuitBreaker.enable is {shown(enable)} and rollback is {shown(rollback)}. Set "
        "deployment_circuit_breaker={'enable': True, 'rollback': True}.")]


def check_canary_percent(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    strategy = _strategy(resource)
    if strategy != "CANARY":
        return []
    low, high = float(config["minPercent"]), float(config["maxPercent"])
    percent = get_path(resource.props, "deploymentConfiguration", "canaryConfiguration", "canaryPercent",
                       default=5.0)
    if is_unknown(percent):
        return [Finding("canaryConfiguration.canaryPercent is unknown during preview and cannot be verified; "
                        f"use a literal between {low:g} and {high:g}.")]
    if not isinstance(percent, (int, float)) or not low <= float(percent) <= high:
        return [Finding(f"canaryConfiguration.canaryPercent is {percent!r}; the canary must take between {low:g}% and "
                        f"{high:g}% of traffic so a bad release reaches few users. Set canary_percent within "
                        "those bounds.")]
    return []


ECS_DEPLOYMENT_ROLLBACK = PolicySpec(
    name="ecs-deployment-rollback",
    description="ECS services roll back failed deployments automatically: circuit breaker for ROLLING, "
                "CloudWatch alarms with rollback for BLUE_GREEN/CANARY/LINEAR.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation="ROLLING: deployment_circuit_breaker={'enable': True, 'rollback': True}. BLUE_GREEN/CANARY/LINEAR: "
                "alarms={'enable': True, 'rollback': True, 'alarm_names': [...]}.",
    unknowns="Unknown strategy or flags are reported as unverifiable; unknown alarm names are deferred to `pulumi up`.",
    check=check_deployment_rollback,
    resource_types=SERVICE,
)

ECS_CANARY_PERCENT = PolicySpec(
    name="ecs-canary-percent",
    description="Canary deployments shift only a small share of traffic to the canary.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    remediation="Set deployment_configuration.canary_configuration.canary_percent within the configured bounds.",
    unknowns="An unknown canaryPercent is reported as unverifiable.",
    check=check_canary_percent,
    resource_types=SERVICE,
    config={
        "minPercent": {"type": "number", "default": 1, "description": "Smallest allowed canaryPercent."},
        "maxPercent": {"type": "number", "default": 5, "description": "Largest allowed canaryPercent."},
    },
)
