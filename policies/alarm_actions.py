"""Alarms reach people, and what they say travels encrypted.

``alarm-actions-prod`` (stack policy): in a production stack (the stack name mapped through the
``stackEnvironments`` knob, see ``environments.py``; a stack the map does not name is held to production's
rules), every ``aws:cloudwatch/metricAlarm:MetricAlarm``
and ``aws:cloudwatch/compositeAlarm:CompositeAlarm`` has at least one ``alarmActions`` entry, unless it is
recognised as wired elsewhere, which counts as an acknowledged reason:

* a *deployment-rollback* alarm: an ``aws:ecs/service:Service`` names it in ``alarms.alarmNames`` (or its
  ``alarms`` property depends on it) with ``enable`` and ``rollback`` true: ECS acts on it;
* a *composite child*: a composite alarm of the stack names it in its ``alarmRule`` (``ALARM("name")``) and
  that composite pages (has actions, or is itself recognised): the composite notifies once per incident.

Anything else needs a documented exception (``exceptions`` knob, see exceptions.py).

``alarm-topic-encrypted`` (stack policy, every environment): an ``aws:sns/topic:Topic`` that is the action
of any alarm (``alarmActions``, ``okActions`` or ``insufficientDataActions`` refer to it) has
``kmsMasterKeyId`` set: alarm messages name resources, states and reasons.

Unknown values: an unknown action entry is the ARN of a resource the program creates and counts as an
action; an unknown alarm name cannot be matched by name, only through property dependencies; an unknown
``kmsMasterKeyId`` counts as set.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .environments import STACK_ENVIRONMENTS_KNOB, environment_of, stack_of
from .framework import Finding, PolicySpec, ResourceView
from .stack_links import refers_to
from .values import as_list, get_path, is_known_text, is_set, is_unknown

METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE_ALARM = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
ECS_SERVICE = "aws:ecs/service:Service"
SNS_TOPIC = "aws:sns/topic:Topic"
ALARM_TYPES = (METRIC_ALARM, COMPOSITE_ALARM)
ACTION_PROPS = ("alarmActions", "okActions", "insufficientDataActions")
RULE_CHILD = re.compile(r'ALARM\(\s*"([^"]+)"\s*\)')


def _alarm_name(alarm: ResourceView) -> Any:
    return alarm.props.get("alarmName" if alarm.type == COMPOSITE_ALARM else "name")


def _has_actions(alarm: ResourceView) -> bool:
    actions = alarm.props.get("alarmActions")
    return is_unknown(actions) or any(is_unknown(a) or is_set(a) for a in as_list(actions))


def _by_name(alarms: list[ResourceView]) -> dict[Any, list[ResourceView]] | None:
    """Alarms by name, so that a lookup by name does not scan every alarm of the stack (a 200-service stack
    has over a thousand); None when a name cannot be a dict key (then the callers scan, as before)."""
    index: dict[Any, list[ResourceView]] = {}
    try:
        for alarm in alarms:
            index.setdefault(_alarm_name(alarm), []).append(alarm)
    except TypeError:
        return None
    return index


def _alarms_named_or_linked(names: set, resource: ResourceView, prop: str, alarms: list[ResourceView],
                            index: dict[Any, list[ResourceView]] | None) -> list[ResourceView]:
    """The alarms whose name is in ``names`` or whose value ``resource.prop`` depends on."""
    if index is None:
        return [a for a in alarms if _alarm_name(a) in names or resource.depends_via(prop, a)]
    found = {id(a): a for name in names for a in index.get(name, ())}
    # ``alarms`` are all the alarms of the request, so a dependency of an alarm type is one of them.
    found.update((id(d), d) for d in resource.property_dependencies.get(prop, []) if d.type in ALARM_TYPES)
    return list(found.values())


def _rollback_alarms(resources: list[ResourceView], alarms: list[ResourceView],
                     index: dict[Any, list[ResourceView]] | None = None) -> set[int]:
    """ids of alarms an ECS service rolls deployments back on."""
    wired: set[int] = set()
    for service in (r for r in resources if r.type == ECS_SERVICE):
        settings = service.props.get("alarms")
        if get_path(settings, "enable") is not True or get_path(settings, "rollback") is not True:
            continue
        names = {n for n in as_list(get_path(settings, "alarmNames")) if is_known_text(n)}
        wired.update(id(alarm) for alarm in _alarms_named_or_linked(names, service, "alarms", alarms, index))
    return wired


def _children_of(composite: ResourceView, alarms: list[ResourceView],
                 index: dict[Any, list[ResourceView]] | None = None) -> list[ResourceView]:
    rule = composite.props.get("alarmRule")
    named = set(RULE_CHILD.findall(str(rule))) if is_known_text(rule) else set()
    return [a for a in _alarms_named_or_linked(named, composite, "alarmRule", alarms, index) if a is not composite]


def check_alarm_actions(resources: list[ResourceView], config: Mapping[str, Any]) -> list[Finding]:
    alarms = [r for r in resources if r.type in ALARM_TYPES]
    index = _by_name(alarms)
    recognised: dict[int, str] = {id(a): "it notifies" for a in alarms if _has_actions(a)}
    for alarm_id in _rollback_alarms(resources, alarms, index):
        recognised.setdefault(alarm_id, "deployment rollback")
    # Children of a paging composite page through it; composites of composites need a second pass.
    composites = [a for a in alarms if a.type == COMPOSITE_ALARM]
    changed = True
    while changed:
        changed = False
        for composite in composites:
            if id(composite) not in recognised:
                continue
            for child in _children_of(composite, alarms, index):
                if id(child) not in recognised:
                    recognised[id(child)] = "composite child"
                    changed = True
    production = set(config["prodEnvironments"])
    findings = []
    for alarm in alarms:
        environment = environment_of(alarm.urn, config["stackEnvironments"])
        if (environment is not None and environment not in production) or id(alarm) in recognised:
            continue
        where = f"environment '{environment}'" if environment is not None else \
            f"stack '{stack_of(alarm.urn)}' (no stackEnvironments entry, so held to production's rules)"
        findings.append(Finding(
            f"alarm {_alarm_name(alarm)!r} in {where} has no alarmActions, is not a "
            "deployment-rollback alarm of an ECS service and is not the child of a composite alarm that pages, so "
            "nobody hears of it. Add alarm_actions=[<alert topic ARN>] (and ok_actions), name it in a paging "
            "composite alarm's rule, or acknowledge it with a policy exception and its reason.", urn=alarm.urn))
    return findings


def check_alarm_topic_encrypted(resources: list[ResourceView], config: Mapping[str, Any]) -> list[Finding]:
    alarms = [r for r in resources if r.type in (METRIC_ALARM, COMPOSITE_ALARM)]
    findings = []
    for topic in (r for r in resources if r.type == SNS_TOPIC):
        destination_of = [a for a in alarms if any(refers_to(a, prop, topic, keys=("arn", "id"))
                                                   for prop in ACTION_PROPS)]
        if not destination_of:
            continue
        key = topic.props.get("kmsMasterKeyId")
        if is_unknown(key) or is_set(key):
            continue
        findings.append(Finding(
            f"SNS topic {topic.props.get('name')!r} receives notifications of {len(destination_of)} alarm(s) but has "
            "no kmsMasterKeyId, so alarm messages rest unencrypted. Set kms_master_key_id to a customer managed key "
            "whose policy admits cloudwatch.amazonaws.com (AWS managed alias/aws/sns cannot be used by CloudWatch).",
            urn=topic.urn))
    return findings


_ENVIRONMENT_CONFIG = {
    "prodEnvironments": {"type": "array", "items": {"type": "string"}, "default": ["prod"],
                         "description": "Environments in which every alarm must reach someone."},
    "stackEnvironments": STACK_ENVIRONMENTS_KNOB,
}

ALARM_ACTIONS_PROD = PolicySpec(
    name="alarm-actions-prod",
    description="In production (by stack, not by tag) every metric and composite alarm notifies someone, rolls back "
                "a deployment, or feeds a composite alarm that notifies.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation="Give the alarm alarm_actions (and ok_actions) pointing at the alert topic, put it under a paging "
                "composite alarm, or wire it to an ECS service's deployment alarms.",
    unknowns="Unknown actions count as set; unknown alarm names are matched through property dependencies only.",
    check=check_alarm_actions,
    stack=True,
    config=_ENVIRONMENT_CONFIG,
)

ALARM_TOPIC_ENCRYPTED = PolicySpec(
    name="alarm-topic-encrypted",
    description="SNS topics that receive alarm notifications are encrypted with a KMS key.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    remediation="Set kms_master_key_id on the aws.sns.Topic to a customer managed key that admits "
                "cloudwatch.amazonaws.com.",
    unknowns="An unknown kmsMasterKeyId counts as set.",
    check=check_alarm_topic_encrypted,
    stack=True,
)
