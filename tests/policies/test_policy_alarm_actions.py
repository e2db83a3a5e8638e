"""alarm-actions-prod and alarm-topic-encrypted, judged in process on hand-built stack views."""

import json

import pytest

from policies.alarm_actions import ALARM_ACTIONS_PROD, ALARM_TOPIC_ENCRYPTED
from policies.framework import ResourceView

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
TOPIC_ARN = "arn:aws:sns:eu-central-1:123456789012:prod-alerts"


def provider(environment: str) -> dict:
    return {"region": "eu-central-1", "defaultTags": json.dumps({"tags": {"environment": environment}})}


def view(type_: str, name: str, props: dict, environment: str = "prod") -> ResourceView:
    return ResourceView(type=type_, name=name, urn=f"urn:pulumi:{environment}::p::{type_}::{name}", props=props,
                        provider_props=provider(environment))


def metric_alarm(name: str, environment: str = "prod", **props) -> ResourceView:
    return view("aws:cloudwatch/metricAlarm:MetricAlarm", name, {"name": name, **props}, environment)


def composite(name: str, children: list[str], **props) -> ResourceView:
    rule = " OR ".join(f'ALARM("{child}")' for child in children)
    return view("aws:cloudwatch/compositeAlarm:CompositeAlarm", name, {"alarmName": name, "alarmRule": rule, **props})


def ecs_service(alarm_names: list[str], enable: bool = True) -> ResourceView:
    return view("aws:ecs/service:Service", "svc", {"alarms": {"alarmNames": alarm_names, "enable": enable,
                                                              "rollback": True}})


def topic(**props) -> ResourceView:
    return view("aws:sns/topic:Topic", "alerts", {"name": "prod-alerts", "arn": TOPIC_ARN, **props})


KEY_ARN = "arn:aws:kms:eu-central-1:123456789012:key/k"
CLOUDWATCH_STATEMENT = {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
                        "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*"}


def key(statements=None, **props) -> ResourceView:
    policy = {"Version": "2012-10-17", "Statement": [CLOUDWATCH_STATEMENT] if statements is None else statements}
    return view("aws:kms/key:Key", "alerts-key", {"arn": KEY_ARN, "id": "k", "policy": json.dumps(policy), **props})


def subscription(topic_arn: str = TOPIC_ARN) -> ResourceView:
    return view("aws:sns/topicSubscription:TopicSubscription", "oncall",
                {"topic": topic_arn, "protocol": "email", "endpoint": "oncall@example.com"})


def delivering(**topic_props) -> list[ResourceView]:
    """A topic that pages: subscribed, under a customer managed key whose policy admits CloudWatch."""
    return [key(), topic(kmsMasterKeyId=KEY_ARN, **topic_props), subscription()]


def actions_findings(resources, deferred=False):
    config = ALARM_ACTIONS_PROD.effective_config(None)
    return [f for f in ALARM_ACTIONS_PROD.check(resources, config) if f.deferred == deferred]


def topic_findings(resources, deferred=False):
    return [f for f in ALARM_TOPIC_ENCRYPTED.check(resources, ALARM_TOPIC_ENCRYPTED.effective_config(None))
            if f.deferred == deferred]


def test_prod_alarm_without_actions_is_a_violation_naming_the_alarm():
    findings = actions_findings([metric_alarm("prod-orphan")])
    assert len(findings) == 1
    assert "'prod-orphan'" in findings[0].message and findings[0].urn.endswith("::prod-orphan")


def test_prod_alarm_that_notifies_a_subscribed_cloudwatch_usable_topic_is_compliant():
    assert actions_findings([*delivering(), metric_alarm("prod-x", alarmActions=[TOPIC_ARN])]) == []


def test_an_unknown_action_depending_on_a_delivering_topic_pages_and_one_depending_on_nothing_is_deferred():
    alerts = delivering(arn=UNKNOWN)
    alarm = metric_alarm("prod-x", alarmActions=[UNKNOWN])
    alarm.property_dependencies = {"alarmActions": [alerts[1]]}
    alerts[2].property_dependencies = {"topic": [alerts[1]]}
    assert actions_findings([*alerts, alarm]) == []
    lone = metric_alarm("prod-y", alarmActions=[UNKNOWN])
    assert actions_findings([lone]) == [] and len(actions_findings([lone], deferred=True)) == 1


@pytest.mark.parametrize("why, resources", [
    ("actionsEnabled is false", [*delivering(), metric_alarm("prod-x", alarmActions=[TOPIC_ARN], actionsEnabled=False)]),
    ("has no subscription", [key(), topic(kmsMasterKeyId=KEY_ARN), metric_alarm("prod-x", alarmActions=[TOPIC_ARN])]),
    ("AWS managed key", [topic(kmsMasterKeyId="alias/aws/sns"), subscription(),
                         metric_alarm("prod-x", alarmActions=[TOPIC_ARN])]),
    ("does not let cloudwatch", [key(statements=[]), topic(kmsMasterKeyId=KEY_ARN), subscription(),
                                 metric_alarm("prod-x", alarmActions=[TOPIC_ARN])]),
    ("no key of this stack", [topic(kmsMasterKeyId="arn:aws:kms:eu-central-1:123456789012:key/aws-sns"),
                              subscription(), metric_alarm("prod-x", alarmActions=[TOPIC_ARN])]),
    ("autoscaling action", [metric_alarm("prod-x", alarmActions=[
        "arn:aws:autoscaling:eu-central-1:123456789012:scalingPolicy:1:autoScalingGroupName/g:policyName/up"])]),
    ("outside the stack", [metric_alarm("prod-x", alarmActions=["arn:aws:sns:eu-central-1:123456789012:elsewhere"])]),
])
def test_an_alarm_whose_actions_reach_nobody_is_a_violation_saying_why(why, resources):
    [finding] = actions_findings(resources)
    assert why in finding.message


def test_an_external_topic_acknowledged_in_config_pages():
    config = ALARM_ACTIONS_PROD.effective_config({"externalTopics": [
        {"topic": "arn:aws:sns:eu-central-1:123456789012:shared-*", "reason": "the organisation's on-call topic"}]})
    alarm = metric_alarm("prod-x", alarmActions=["arn:aws:sns:eu-central-1:123456789012:shared-oncall"])
    assert list(ALARM_ACTIONS_PROD.check([alarm], config)) == []


def test_a_key_policy_set_through_a_separate_key_policy_resource_is_read():
    bare = view("aws:kms/key:Key", "alerts-key", {"arn": KEY_ARN, "id": "k"})
    policy = view("aws:kms/keyPolicy:KeyPolicy", "alerts-key-policy", {"keyId": "k", "policy": json.dumps(
        {"Statement": [CLOUDWATCH_STATEMENT]})})
    resources = [bare, policy, topic(kmsMasterKeyId=KEY_ARN), subscription(),
                 metric_alarm("prod-x", alarmActions=[TOPIC_ARN])]
    assert actions_findings(resources) == [] and topic_findings(resources) == []


@pytest.mark.parametrize("rule", ['NOT ALARM("prod-a")', 'ALARM("prod-a") AND FALSE', 'OK("prod-a")',
                                  'ALARM("prod-a") OR TRUE'])
def test_a_composite_rule_that_cannot_go_to_alarm_because_of_a_child_does_not_page_for_it(rule):
    parent = view("aws:cloudwatch/compositeAlarm:CompositeAlarm", "prod-health",
                  {"alarmName": "prod-health", "alarmRule": rule, "alarmActions": [TOPIC_ARN]})
    found = actions_findings([*delivering(), metric_alarm("prod-a"), parent])
    assert [f.urn.rsplit("::", 1)[1] for f in found] == ["prod-a"]


@pytest.mark.parametrize("rule", ["ALARM(prod-a)", 'ALARM("arn:aws:cloudwatch:eu-central-1:123456789012:alarm:prod-a")',
                                  'NOT OK("prod-a") AND TRUE', 'AT_LEAST(1, ALARM, ("prod-b", prod-a))'])
def test_unquoted_and_arn_named_children_of_a_paging_composite_are_resolved(rule):
    child = metric_alarm("prod-a", arn="arn:aws:cloudwatch:eu-central-1:123456789012:alarm:prod-a")
    parent = view("aws:cloudwatch/compositeAlarm:CompositeAlarm", "prod-health",
                  {"alarmName": "prod-health", "alarmRule": rule, "alarmActions": [TOPIC_ARN]})
    assert actions_findings([*delivering(), child, parent]) == []


def test_a_composite_rule_that_cannot_be_parsed_is_a_violation():
    parent = view("aws:cloudwatch/compositeAlarm:CompositeAlarm", "prod-health",
                  {"alarmName": "prod-health", "alarmRule": 'ALARM("prod-a" OR', "alarmActions": [TOPIC_ARN]})
    assert any("cannot be parsed" in f.message for f in actions_findings([*delivering(), parent]))


def test_staging_alarms_are_not_judged():
    assert actions_findings([metric_alarm("staging-x", environment="staging")]) == []


def test_a_stack_the_environment_map_does_not_name_is_held_to_productions_rules():
    findings = actions_findings([metric_alarm("x", environment="sandbox")])
    assert len(findings) == 1 and "held to production's rules" in findings[0].message


def test_deployment_rollback_alarms_are_recognised_through_the_ecs_service():
    assert actions_findings([metric_alarm("prod-auth-5xx-rate-tg-a"), ecs_service(["prod-auth-5xx-rate-tg-a"])]) == []


def test_an_ecs_service_with_alarm_rollback_disabled_does_not_excuse_its_alarms():
    assert len(actions_findings([metric_alarm("prod-a"), ecs_service(["prod-a"], enable=False)])) == 1


def test_children_of_a_paging_composite_are_recognised_and_children_of_a_silent_one_are_not():
    children = [metric_alarm("prod-auth-slo-p95-latency"), metric_alarm("prod-auth-slo-error-rate")]
    paging = composite("prod-auth-health", ["prod-auth-slo-p95-latency", "prod-auth-slo-error-rate"],
                       alarmActions=[TOPIC_ARN])
    assert actions_findings([*delivering(), *children, paging]) == []
    silent = composite("prod-auth-health", ["prod-auth-slo-p95-latency", "prod-auth-slo-error-rate"])
    assert sorted(f.urn.rsplit("::", 1)[1] for f in actions_findings([*children, silent])) == [
        "prod-auth-health", "prod-auth-slo-error-rate", "prod-auth-slo-p95-latency"]


def test_a_composite_under_a_paging_stack_composite_is_recognised():
    service = composite("prod-auth-health", ["prod-auth-slo-p95-latency"])
    stack = composite("prod-platform-health", ["prod-auth-health"], alarmActions=[TOPIC_ARN])
    assert actions_findings([*delivering(), metric_alarm("prod-auth-slo-p95-latency"), service, stack]) == []


def test_alarm_topic_without_a_kms_key_is_a_violation():
    findings = topic_findings([topic(), metric_alarm("prod-x", alarmActions=[TOPIC_ARN])])
    assert len(findings) == 1 and "'prod-alerts'" in findings[0].message


def test_alarm_topic_under_a_customer_managed_key_that_admits_cloudwatch_is_compliant():
    assert topic_findings([*delivering(), metric_alarm("prod-x", okActions=[TOPIC_ARN])]) == []


def test_alarm_topic_under_an_unknown_key_is_deferred_not_passed():
    resources = [topic(kmsMasterKeyId=UNKNOWN), metric_alarm("prod-x", okActions=[TOPIC_ARN])]
    assert topic_findings(resources) == [] and len(topic_findings(resources, deferred=True)) == 1


def test_alarm_topic_under_the_aws_managed_sns_key_is_a_violation():
    [finding] = topic_findings([topic(kmsMasterKeyId="alias/aws/sns"), metric_alarm("prod-x", alarmActions=[TOPIC_ARN])])
    assert "CloudWatch cannot use" in finding.message


def test_a_topic_no_alarm_notifies_is_not_judged():
    assert topic_findings([topic(), metric_alarm("prod-x", alarmActions=["arn:aws:sns:eu-central-1:1:other"])]) == []


def test_a_topic_referred_to_through_property_dependencies_is_an_alarm_destination():
    alerts = topic(arn=UNKNOWN)
    alarm = metric_alarm("prod-x", alarmActions=[UNKNOWN])
    alarm.property_dependencies = {"alarmActions": [alerts]}
    assert len(topic_findings([alerts, alarm])) == 1


def test_the_alarms_a_topic_receives_notifications_of_are_counted_once_each():
    named_twice = metric_alarm("prod-x", alarmActions=[TOPIC_ARN], okActions=[TOPIC_ARN])
    linked = metric_alarm("prod-y", alarmActions=[UNKNOWN], insufficientDataActions=[TOPIC_ARN])
    alerts = topic()
    linked.property_dependencies = {"alarmActions": [alerts]}
    elsewhere = metric_alarm("prod-z", alarmActions=["arn:aws:sns:eu-central-1:1:other"])
    [finding] = topic_findings([alerts, named_twice, linked, elsewhere])
    assert "receives notifications of 2 alarm(s)" in finding.message
