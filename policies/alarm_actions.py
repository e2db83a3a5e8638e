"""Alarms reach people, and what they say travels encrypted.

``alarm-actions-prod`` (stack policy): in a production stack (the stack name mapped through the
``stackEnvironments`` knob, see ``environments.py``; a stack the map does not name is held to production's
rules), every ``aws:cloudwatch/metricAlarm:MetricAlarm`` and ``aws:cloudwatch/compositeAlarm:CompositeAlarm``
pages someone, or is recognised as wired elsewhere:

* it *pages* when ``actionsEnabled`` is not false and an ``alarmActions`` entry is an SNS topic that delivers:
  a topic of the stack (by ARN or property dependency; or one the ``externalTopics`` knob names with a
  reason) with at least one ``aws:sns/topicSubscription``, encrypted with a customer managed key of the stack
  whose key policy lets ``cloudwatch.amazonaws.com`` use it (kms:Decrypt and kms:GenerateDataKey*): CloudWatch
  cannot publish to a topic under ``alias/aws/sns`` or under a key that does not admit it, and a topic nobody
  subscribes to reaches nobody. Scaling, EC2, Systems Manager and Lambda actions do not page;
* a *deployment-rollback* alarm: an ``aws:ecs/service:Service`` names it in ``alarms.alarmNames`` (or its
  ``alarms`` property depends on it) with ``enable`` and ``rollback`` true: ECS acts on it;
* a *composite child*: a paging composite alarm's rule can go to ALARM because of it. The rule is parsed
  (alarm_rules.py): ``NOT ALARM(x)`` and ``ALARM(x) AND FALSE`` do not page for x; unquoted names and
  alarm ARNs are resolved to the stack's alarms.

Anything else needs a documented exception (``exceptions`` knob, see exceptions.py).

``alarm-topic-encrypted`` (stack policy, every environment): an ``aws:sns/topic:Topic`` that is the action
of any alarm is encrypted with a customer managed key of the stack whose policy admits CloudWatch (the
AWS managed ``alias/aws/sns`` cannot be used by CloudWatch, so alarm notifications would be dropped).

Unknown values: an unknown action entry is resolved through the property dependencies of the actions; an
unknown one that depends on no topic, an unknown topic key, key policy or alarm rule is deferred to
``pulumi up``; an unknown ``actionsEnabled`` cannot be shown to page and is reported.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .alarm_rules import RuleError, paging_children
from .data_keys import key_policies, resolve_key
from .data_stores import is_aws_managed_key
from .environments import STACK_ENVIRONMENTS_KNOB, environment_of, stack_of
from .framework import Finding, PolicySpec, ResourceView, deferred
from .stack_links import Targets, refers_to
from .values import DocumentError, as_list, get_path, is_known_text, is_unknown, parse_json_document

METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE_ALARM = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
ECS_SERVICE = "aws:ecs/service:Service"
SNS_TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
ALARM_TYPES = (METRIC_ALARM, COMPOSITE_ALARM)
ACTION_PROPS = ("alarmActions", "okActions", "insufficientDataActions")
CLOUDWATCH = "cloudwatch.amazonaws.com"
_CLOUDWATCH_NEEDS = ("kms:decrypt", "kms:generatedatakey")


def _alarm_name(alarm: ResourceView) -> Any:
    return alarm.props.get("alarmName" if alarm.type == COMPOSITE_ALARM else "name")


def _alarm_ids(alarm: ResourceView) -> set[str]:
    """What a composite rule may call the alarm: its name and its ARN."""
    return {v for v in (_alarm_name(alarm), alarm.props.get("arn")) if is_known_text(v)}


class _Stack:
    """What the alarm policies look up, indexed once per request."""

    def __init__(self, resources: list[ResourceView], config: Mapping[str, Any]) -> None:
        self.resources = resources
        self.topics = [r for r in resources if r.type == SNS_TOPIC]
        self.subscriptions = [r for r in resources if r.type == SUBSCRIPTION]
        self.external = [str(e.get("topic", "")) for e in config.get("externalTopics") or () if isinstance(e, Mapping)]
        self._delivers: dict[int, tuple[bool | None, str]] = {}

    def topics_of(self, alarm: ResourceView, prop: str = "alarmActions") -> tuple[list[ResourceView], list[str], bool]:
        """(topics of the stack the actions name, known action ARNs naming nothing in the stack, unresolved unknowns)."""
        actions = alarm.props.get(prop)
        entries = [actions] if is_unknown(actions) else as_list(actions)
        linked = [d for d in alarm.property_dependencies.get(prop, []) if d.type == SNS_TOPIC]
        found = {id(t): t for t in linked}
        foreign, unknown = [], False
        for entry in entries:
            if is_unknown(entry):
                unknown = unknown or not linked
                continue
            if not is_known_text(entry):
                continue
            topic = next((t for t in self.topics if entry in {t.props.get("arn"), t.props.get("id")}), None)
            if topic is not None:
                found[id(topic)] = topic
            else:
                foreign.append(str(entry))
        return list(found.values()), foreign, unknown

    def delivers(self, topic: ResourceView) -> tuple[bool | None, str]:
        """Whether CloudWatch's notifications through ``topic`` reach someone (None: unknown yet), and why not."""
        if id(topic) not in self._delivers:
            self._delivers[id(topic)] = self._judge_topic(topic)
        return self._delivers[id(topic)]

    def _judge_topic(self, topic: ResourceView) -> tuple[bool | None, str]:
        if not any(refers_to(s, "topic", topic, keys=("arn", "id")) or refers_to(s, "topicArn", topic, keys=("arn", "id"))
                   for s in self.subscriptions):
            return False, "has no subscription in the stack, so it reaches nobody"
        usable, why = self.key_usable(topic)
        return usable, why

    def key_usable(self, topic: ResourceView) -> tuple[bool | None, str]:
        key = topic.props.get("kmsMasterKeyId")
        if key is None or (isinstance(key, str) and not key.strip()):
            return False, "has no kmsMasterKeyId (alarm messages would rest unencrypted)"
        if is_aws_managed_key(key):
            return False, f"is encrypted with the AWS managed key {key!r}, which CloudWatch cannot use, so it drops alarm " \
                          "notifications"
        resolved = resolve_key(topic, "kmsMasterKeyId", key, self.resources)
        if is_unknown(resolved):
            return None, "has a kmsMasterKeyId unknown during preview"
        if not isinstance(resolved, ResourceView):
            return False, f"is encrypted with {key!r}, which is no key of this stack, so whether CloudWatch may use it " \
                          "(or whether it is the AWS managed aws/sns key) cannot be shown"
        if resolved.type == "aws:kms/alias:Alias":
            return None, "uses a key alias whose target key is unknown during preview"
        return _admits_cloudwatch(key_policies(resolved, self.resources))


def _admits_cloudwatch(documents: list[Any]) -> tuple[bool | None, str]:
    undecided = False
    for document in documents:
        try:
            parsed = parse_json_document(document)
        except DocumentError:
            continue
        if is_unknown(parsed):
            undecided = True
            continue
        for statement in as_list(get_path(parsed, "Statement")) if isinstance(parsed, Mapping) else []:
            if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
                continue
            services = as_list(get_path(statement, "Principal", "Service"))
            if any(is_unknown(s) for s in services) or any(is_unknown(a) for a in as_list(statement.get("Action"))):
                undecided = True
            if CLOUDWATCH not in services:
                continue
            actions = [str(a).lower() for a in as_list(statement.get("Action")) if isinstance(a, str)]
            if all(any(fnmatch.fnmatchcase(need, a) for a in actions) for need in _CLOUDWATCH_NEEDS):
                return True, ""
    if undecided:
        return None, "has a key policy unknown during preview"
    return False, "is encrypted with a key whose policy does not let cloudwatch.amazonaws.com use it (kms:Decrypt, " \
                  "kms:GenerateDataKey*), so CloudWatch cannot publish alarm notifications to it"


def _pages(alarm: ResourceView, stack: _Stack) -> tuple[bool | None, str]:
    """Whether the alarm's own actions page someone (None: it hangs on values unknown during preview) and why not."""
    enabled = alarm.props.get("actionsEnabled")
    if enabled is False:
        return False, "actionsEnabled is false"
    if is_unknown(enabled):
        return False, "actionsEnabled is unknown during preview and cannot be shown to be true"
    topics, foreign, unknown = stack.topics_of(alarm)
    reasons = []
    for arn in foreign:
        if any(fnmatch.fnmatchcase(arn, glob) for glob in stack.external):
            return True, ""
        kind = arn.split(":")[2] if arn.startswith("arn:") and arn.count(":") >= 2 else "no ARN"
        reasons.append(f"action {arn!r} is " + ("an SNS topic outside the stack (name it in externalTopics with a "
                                                "reason)" if kind == "sns" else f"a {kind} action, which pages nobody"))
    undecided = unknown
    for topic in topics:
        delivers, why = stack.delivers(topic)
        if delivers:
            return True, ""
        if delivers is None:
            undecided = True
        else:
            reasons.append(f"topic {topic.props.get('name') or topic.name!r} {why}")
    if undecided:
        return None, "its alarm actions are unknown during preview"
    return False, "; ".join(reasons) or "it has no alarmActions"


def _by_name(alarms: list[ResourceView]) -> dict[str, list[ResourceView]]:
    """Alarms by name and ARN, so a lookup does not scan every alarm of the stack."""
    index: dict[str, list[ResourceView]] = {}
    for alarm in alarms:
        for key in _alarm_ids(alarm):
            index.setdefault(key, []).append(alarm)
    return index


def _alarms_named_or_linked(names: set[str], resource: ResourceView, prop: str,
                            index: dict[str, list[ResourceView]]) -> list[ResourceView]:
    """The alarms whose name or ARN is in ``names`` or whose value ``resource.prop`` depends on."""
    found = {id(a): a for name in names for a in index.get(name, ())}
    found.update((id(d), d) for d in resource.property_dependencies.get(prop, []) if d.type in ALARM_TYPES)
    return list(found.values())


def _rollback_alarms(resources: list[ResourceView], index: dict[str, list[ResourceView]]) -> set[int]:
    """ids of alarms an ECS service rolls deployments back on."""
    wired: set[int] = set()
    for service in (r for r in resources if r.type == ECS_SERVICE):
        settings = service.props.get("alarms")
        if get_path(settings, "enable") is not True or get_path(settings, "rollback") is not True:
            continue
        names = {n for n in as_list(get_path(settings, "alarmNames")) if is_known_text(n)}
        wired.update(id(alarm) for alarm in _alarms_named_or_linked(names, service, "alarms", index))
    return wired


def _children_of(composite: ResourceView, index: dict[str, list[ResourceView]]) -> tuple[list[ResourceView], str | None]:
    """The alarms whose ALARM state can put the composite into ALARM, and why the rule cannot be read (or None)."""
    rule = composite.props.get("alarmRule")
    if is_unknown(rule):  # only the property dependencies say which alarms it names
        return [a for a in composite.property_dependencies.get("alarmRule", []) if a.type in ALARM_TYPES], None
    if not is_known_text(rule):
        return [], "alarmRule is empty"
    try:
        named = paging_children(rule)
    except RuleError as error:
        return [], f"alarmRule cannot be parsed ({error})"
    return [a for name in named for a in index.get(name, ()) if a is not composite], None


def check_alarm_actions(resources: list[ResourceView], config: Mapping[str, Any]) -> list[Finding]:
    production = set(config["prodEnvironments"])
    alarms = [r for r in resources if r.type in ALARM_TYPES]
    judged = [a for a in alarms if (lambda env: env is None or env in production)(
        environment_of(a.urn, config["stackEnvironments"]))]
    if not judged:
        return []
    stack = _Stack(resources, config)
    index = _by_name(alarms)
    why_not: dict[int, str] = {}
    recognised: dict[int, str] = {}
    pending: set[int] = set()
    for alarm in alarms:
        pages, why = _pages(alarm, stack)
        if pages:
            recognised[id(alarm)] = "it pages"
        elif pages is None:
            pending.add(id(alarm))
        why_not[id(alarm)] = why
    for alarm_id in _rollback_alarms(resources, index):
        recognised.setdefault(alarm_id, "deployment rollback")
    unreadable: dict[int, str] = {}
    # Children of a paging composite page through it; composites of composites need further passes.
    composites = [a for a in alarms if a.type == COMPOSITE_ALARM]
    children_of: dict[int, tuple[list[ResourceView], str | None]] = {}  # each rule parsed once, not once per pass
    changed = True
    while changed:
        changed = False
        for composite in composites:
            if id(composite) not in recognised and id(composite) not in pending:
                continue
            if id(composite) not in children_of:
                children_of[id(composite)] = _children_of(composite, index)
            children, problem = children_of[id(composite)]
            if problem:
                unreadable[id(composite)] = problem
            for child in children:
                target = recognised if id(composite) in recognised else None
                if target is not None and id(child) not in recognised:
                    recognised[id(child)] = "composite child"
                    pending.discard(id(child))
                    changed = True
                elif target is None and id(child) not in recognised and id(child) not in pending:
                    pending.add(id(child))
                    changed = True
    findings = []
    for alarm in judged:
        environment = environment_of(alarm.urn, config["stackEnvironments"])
        where = f"environment '{environment}'" if environment is not None else \
            f"stack '{stack_of(alarm.urn)}' (no stackEnvironments entry, so held to production's rules)"
        if id(alarm) in unreadable:
            findings.append(Finding(f"composite alarm {_alarm_name(alarm)!r}: {unreadable[id(alarm)]}, so which alarms "
                                    "it pages for cannot be told. Write the rule in CloudWatch's AlarmRule syntax.",
                                    urn=alarm.urn))
        if id(alarm) in recognised:
            continue
        if id(alarm) in pending:
            findings.append(deferred(f"whether alarm {_alarm_name(alarm)!r} pages hangs on values unknown during "
                                     f"preview ({why_not.get(id(alarm), 'its composite')})", urn=alarm.urn))
            continue
        findings.append(Finding(
            f"alarm {_alarm_name(alarm)!r} in {where} pages nobody ({why_not[id(alarm)]}), is not a deployment-rollback "
            "alarm of an ECS service and is not a child whose ALARM state drives a paging composite alarm, so nobody "
            "hears of it. Set alarm_actions=[<alert topic ARN>] (a topic with a subscription, encrypted with a key "
            "that admits cloudwatch.amazonaws.com) and keep actions_enabled true, name it as ALARM(...) in a paging "
            "composite alarm's rule, or acknowledge it with a policy exception and its reason.", urn=alarm.urn))
    return findings


def check_alarm_topic_encrypted(resources: list[ResourceView], config: Mapping[str, Any]) -> list[Finding]:
    stack = _Stack(resources, config)
    topics = Targets(stack.topics, keys=("arn", "id"))
    notifying: dict[int, int] = {}  # alarms whose actions name the topic, by the topic's id()
    for alarm in (r for r in resources if r.type in ALARM_TYPES):
        for topic_id in {id(t) for prop in ACTION_PROPS for t in topics.referred(alarm, prop)}:
            notifying[topic_id] = notifying.get(topic_id, 0) + 1
    findings = []
    for topic in stack.topics:
        if not notifying.get(id(topic)):
            continue
        usable, why = stack.key_usable(topic)
        if usable:
            continue
        if usable is None:
            findings.append(deferred(f"SNS topic {topic.props.get('name')!r}: {why}", urn=topic.urn))
            continue
        findings.append(Finding(
            f"SNS topic {topic.props.get('name')!r} receives notifications of {notifying[id(topic)]} alarm(s) but {why}. "
            "Set kms_master_key_id to a customer managed key of the stack whose policy allows cloudwatch.amazonaws.com "
            "kms:Decrypt and kms:GenerateDataKey* (AWS managed alias/aws/sns cannot be used by CloudWatch).",
            urn=topic.urn))
    return findings


_EXTERNAL_TOPICS_KNOB = {
    "type": "array",
    "items": {"type": "object", "properties": {"topic": {"type": "string"},
                                               "reason": {"type": "string", "minLength": 20}},
              "required": ["topic", "reason"]},
    "default": [],
    "description": "SNS topics outside the stack (ARN globs) that deliver alarm notifications, each with its reason.",
}

_ENVIRONMENT_CONFIG = {
    "prodEnvironments": {"type": "array", "items": {"type": "string"}, "default": ["prod"],
                         "description": "Environments in which every alarm must reach someone."},
    "stackEnvironments": STACK_ENVIRONMENTS_KNOB,
    "externalTopics": _EXTERNAL_TOPICS_KNOB,
}

ALARM_ACTIONS_PROD = PolicySpec(
    name="alarm-actions-prod",
    description="In production (by stack, not by tag) every metric and composite alarm pages someone (enabled actions "
                "to a subscribed SNS topic under a key CloudWatch may use), rolls back a deployment, or drives a "
                "paging composite alarm (rules parsed, not read as text).",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation="Give the alarm alarm_actions pointing at the subscribed, CloudWatch-usable alert topic with "
                "actions_enabled true, put it as ALARM(...) under a paging composite alarm, or wire it to an ECS "
                "service's deployment alarms.",
    unknowns="Unknown actions are resolved through their property dependencies; what still hangs on unknown topics, "
             "keys, key policies or rules is deferred to `pulumi up`; an unknown actionsEnabled is reported.",
    check=check_alarm_actions,
    stack=True,
    config=_ENVIRONMENT_CONFIG,
)

ALARM_TOPIC_ENCRYPTED = PolicySpec(
    name="alarm-topic-encrypted",
    description="SNS topics that receive alarm notifications are encrypted with a customer managed key of the stack "
                "whose policy lets CloudWatch use it.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    remediation="Set kms_master_key_id on the aws.sns.Topic to a customer managed key that admits "
                "cloudwatch.amazonaws.com.",
    unknowns="An unknown key, alias target or key policy is deferred to `pulumi up`.",
    check=check_alarm_topic_encrypted,
    stack=True,
)
