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


def actions_findings(resources):
    config = ALARM_ACTIONS_PROD.effective_config(None)
    return list(ALARM_ACTIONS_PROD.check(resources, config))


def topic_findings(resources):
    return list(ALARM_TOPIC_ENCRYPTED.check(resources, ALARM_TOPIC_ENCRYPTED.effective_config(None)))


def test_prod_alarm_without_actions_is_a_violation_naming_the_alarm():
    findings = actions_findings([metric_alarm("prod-orphan")])
    assert len(findings) == 1
    assert "'prod-orphan'" in findings[0].message and findings[0].urn.endswith("::prod-orphan")


def test_prod_alarm_that_notifies_the_topic_is_compliant():
    assert actions_findings([metric_alarm("prod-x", alarmActions=[TOPIC_ARN])]) == []


def test_an_unknown_action_is_a_resource_the_program_creates_and_counts():
    assert actions_findings([metric_alarm("prod-x", alarmActions=[UNKNOWN])]) == []


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
    assert actions_findings([*children, paging]) == []
    silent = composite("prod-auth-health", ["prod-auth-slo-p95-latency", "prod-auth-slo-error-rate"])
    assert sorted(f.urn.rsplit("::", 1)[1] for f in actions_findings([*children, silent])) == [
        "prod-auth-health", "prod-auth-slo-error-rate", "prod-auth-slo-p95-latency"]


def test_a_composite_under_a_paging_stack_composite_is_recognised():
    service = composite("prod-auth-health", ["prod-auth-slo-p95-latency"])
    stack = composite("prod-platform-health", ["prod-auth-health"], alarmActions=[TOPIC_ARN])
    assert actions_findings([metric_alarm("prod-auth-slo-p95-latency"), service, stack]) == []


def test_alarm_topic_without_a_kms_key_is_a_violation():
    findings = topic_findings([topic(), metric_alarm("prod-x", alarmActions=[TOPIC_ARN])])
    assert len(findings) == 1 and "'prod-alerts'" in findings[0].message


@pytest.mark.parametrize("key", ["arn:aws:kms:eu-central-1:123456789012:key/k", UNKNOWN])
def test_alarm_topic_with_a_kms_key_is_compliant(key):
    assert topic_findings([topic(kmsMasterKeyId=key), metric_alarm("prod-x", okActions=[TOPIC_ARN])]) == []


def test_a_topic_no_alarm_notifies_is_not_judged():
    assert topic_findings([topic(), metric_alarm("prod-x", alarmActions=["arn:aws:sns:eu-central-1:1:other"])]) == []


def test_a_topic_referred_to_through_property_dependencies_is_an_alarm_destination():
    alerts = topic(arn=UNKNOWN)
    alarm = metric_alarm("prod-x", alarmActions=[UNKNOWN])
    alarm.property_dependencies = {"alarmActions": [alerts]}
    assert len(topic_findings([alerts, alarm])) == 1
