"""Hostile values in the pack: every policy answers a value it cannot read with a verdict ("cannot judge <the
property>" or its ordinary one), never an internal error and never by raising into the engine.

The properties fed are every top-level property name a check of the pack reads (found in the pack's source),
on every resource type a policy looks at."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from views import Stack, validate, view

from policies.hostile import hostile_property
from policies.pack import SPECS
from policies.values import DocumentError, parse_json_document

PACK = Path(__file__).resolve().parents[2] / "policies"
_READ = re.compile(r"""(?:props\.get\(|get_path\([\w.]*props,\s*|props\[)"(\w+)\"""")
READ_KEYS = sorted({key for module in PACK.glob("*.py") for key in _READ.findall(module.read_text())})

STACK_TYPES = (
    "aws:ec2/securityGroup:SecurityGroup", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:ec2/securityGroupRule:SecurityGroupRule", "aws:lb/loadBalancer:LoadBalancer", "aws:lb/listener:Listener",
    "aws:lb/listenerRule:ListenerRule", "aws:cloudwatch/metricAlarm:MetricAlarm",
    "aws:cloudwatch/compositeAlarm:CompositeAlarm", "aws:sns/topic:Topic", "aws:sns/topicSubscription:TopicSubscription",
    "aws:kms/key:Key", "aws:sqs/queue:Queue", "aws:sqs/redrivePolicy:RedrivePolicy", "aws:ec2/vpc:Vpc",
    "aws:ec2/vpcEndpoint:VpcEndpoint", "aws:ecs/service:Service", "aws:budgets/budget:Budget",
    "aws:ec2/networkInterface:NetworkInterface", "aws:ec2/managedPrefixList:ManagedPrefixList",
)


def _deep(levels: int) -> Any:
    value: Any = "x"
    for _ in range(levels):
        value = {"a": [value]}
    return value


DEEP_JSON = "[" * 10_000 + "]" * 10_000
HOSTILE = {
    "nested 10,000 levels": _deep(10_000),
    "JSON text nested 10,000 levels": DEEP_JSON,
    "NaN": math.nan,
    "Infinity": math.inf,
    "an int": 7,
    "a bool": True,
    "a list": [1, None, {"x": []}],
    "a dict": {"Statement": 3, "ingress": "x"},
    "an ARN of an unknown service": "arn:aws:no-such-service:eu-central-1:123456789012:thing/*",
    "JSON with NaN": '{"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": NaN}]}',
}


def _types(spec) -> list[str]:
    return sorted(spec.resource_types) if spec.resource_types else ["aws:iam/role:Role", "aws:s3/bucket:Bucket"]


def _no_internal_error(messages: list[str]) -> None:
    for message in messages:
        assert "internal error" not in message and "Traceback" not in message, message


@pytest.mark.parametrize("case", sorted(HOSTILE))
@pytest.mark.parametrize("spec", [s for s in SPECS if not s.stack], ids=lambda s: s.name)
def test_every_resource_policy_answers_hostile_values_with_a_verdict(spec, case):
    for type_ in _types(spec):
        props = dict.fromkeys(READ_KEYS, HOSTILE[case])
        verdicts = validate(spec, view(type_, props, name="hostile"))
        _no_internal_error(verdicts.messages)
        if case in ("nested 10,000 levels", "NaN", "Infinity"):
            assert any("cannot judge" in m for m in verdicts.messages), (type_, verdicts)


@pytest.mark.parametrize("spec", [s for s in SPECS if not s.stack], ids=lambda s: s.name)
def test_every_resource_policy_answers_one_hostile_property_at_a_time_naming_it(spec):
    for case in sorted(set(HOSTILE) - {"nested 10,000 levels"}):
        for type_ in _types(spec):
            for key in READ_KEYS:
                verdicts = validate(spec, view(type_, {key: HOSTILE[case]}, name="hostile"))
                _no_internal_error(verdicts.messages)
                assert not any("could not read" in m for m in verdicts.messages), (case, key, verdicts)


@pytest.mark.parametrize("case", sorted(HOSTILE))
@pytest.mark.parametrize("spec", [s for s in SPECS if s.stack], ids=lambda s: s.name)
def test_every_stack_policy_answers_hostile_values_with_a_verdict(spec, case):
    stack = Stack(stack="prod")
    for type_ in STACK_TYPES + tuple(t for s in SPECS for t in (s.resource_types or ())):
        stack.add(type_, f"hostile-{type_.rsplit(':', 1)[-1]}", dict.fromkeys(READ_KEYS, HOSTILE[case]))
    messages = validate(spec, stack.views).messages
    _no_internal_error(messages)
    if case == "nested 10,000 levels":
        assert any("cannot judge aws:" in m and "nests too deeply" in m for m in messages), messages


def test_a_check_that_trips_on_a_wrongly_typed_property_names_that_property():
    spec = next(s for s in SPECS if s.name == "log-group-retention")
    verdicts = validate(spec, view("aws:cloudwatch/logGroup:LogGroup", {"retentionInDays": math.nan}, name="lg"))
    assert verdicts.messages == [
        "aws:cloudwatch/logGroup:LogGroup 'lg': cannot judge retentionInDays: it holds the number nan (at the top), "
        "which is no valid value, so the resource is refused unjudged. Give it a value AWS accepts (a finite number, "
        "a document of ordinary depth, the documented type)."]


def test_a_resource_nested_10000_levels_deep_is_refused_naming_the_property():
    spec = next(s for s in SPECS if s.name == "budget-tags")
    [message] = validate(spec, view("aws:s3/bucket:Bucket", {"tags": {"a": 1}, "policy": _deep(10_000)})).messages
    assert "cannot judge policy: it nests too deeply to be read" in message


def test_ordinary_properties_are_not_hostile():
    assert hostile_property({"retentionInDays": 30, "policy": {"Statement": [{"Effect": "Allow"}]}, "x": 1.5}) is None


def test_json_documents_nested_too_deeply_or_with_nan_are_document_errors():
    for text in (DEEP_JSON, '{"a": NaN}', json.dumps(_deep(100))):
        with pytest.raises(DocumentError):
            parse_json_document(text)
    assert parse_json_document(json.dumps(_deep(20)))["a"][0]["a"]


def test_hostile_values_sent_over_grpc_get_verdicts_and_the_request_does_not_fail(pack):
    from policy_records import StackRecords

    stack = StackRecords(stack="prod")
    group = stack.add("aws:cloudwatch/logGroup:LogGroup", "hostile", {"retentionInDays": math.inf, "kmsKeyId": "k"})
    policy = stack.add("aws:iam/policy:Policy", "deep", {"policy": DEEP_JSON})
    queue = stack.add("aws:sqs/queue:Queue", "odd", {"redrivePolicy": DEEP_JSON, "kmsMasterKeyId": math.nan})
    diagnostics = pack.preview(stack.records)
    by_urn = {record["urn"]: [d.message for d in diagnostics if d.urn == record["urn"]]
              for record in (group, policy, queue)}
    assert any("cannot judge retentionInDays" in m for m in by_urn[group["urn"]])
    assert any("cannot be parsed" in m and "64 levels" in m for m in by_urn[policy["urn"]])
    assert any("cannot judge kmsMasterKeyId" in m for m in by_urn[queue["urn"]])
    assert not any("internal error" in d.message for d in diagnostics)
