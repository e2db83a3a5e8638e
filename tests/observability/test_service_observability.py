"""ServiceObservability and AlertRouting under the mock runtime: what reaches the provider."""

import json

import pulumi
import pulumi_aws as aws
import pytest

from components.observability.alert_routing import (
    AlertDestination,
    AlertRouting,
    AlertRoutingArgs,
    publisher_key_statements,
    topic_arn,
    topic_policy,
)
from components.observability.service_observability import ServiceObservability, ServiceObservabilityArgs
from components.observability.slo import AlbSource, SloTargets
from devkit.mocks import ACCOUNT_ID, run_program
from policies.iam_documents import judge_policy_document
from tests.observability.aws_models import request_problems
from tests.observability.dashboard_schema import body_problems

REGION = "eu-central-1"
TOPIC = topic_arn(REGION, ACCOUNT_ID, "prod-alerts")
ALB = AlbSource("app/prod-alb/0123456789abcdef", ("targetgroup/prod-auth-a/1111", "targetgroup/prod-auth-b/2222"))


def _args(**overrides) -> ServiceObservabilityArgs:
    values = dict(name_prefix="prod", environment="prod", region=REGION, service_name="auth",
                  cluster_name="prod-cluster", log_group_name="/ecs/prod/auth", slo=SloTargets(),
                  alerts=AlertDestination(TOPIC, "prod-alerts", REGION), alb=ALB,
                  container_insights=True)
    values.update(overrides)
    return ServiceObservabilityArgs(**values)


@pytest.fixture(scope="module")
def routed():
    def program():
        provider = aws.Provider("euc1", region=REGION)
        ServiceObservability("prod-auth", _args(), pulumi.ResourceOptions(provider=provider))
    recorder, _ = run_program(program, project="microservices-foundation", stack="prod", region=REGION)
    return recorder


def test_slo_alarms_have_no_actions_and_only_the_health_alarm_pages_on_alarm_and_ok(routed):
    alarms = routed.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert len(alarms) == 8
    assert all(not a.inputs.get("alarmActions") and not a.inputs.get("okActions") for a in alarms)
    health = routed.one("aws:cloudwatch/compositeAlarm:CompositeAlarm").inputs
    assert health["alarmName"] == "prod-auth-health"
    assert health["alarmActions"] == health["okActions"] == [TOPIC]
    assert health["alarmRule"].count("ALARM(") == 8
    assert {a.inputs["name"] for a in alarms} == {
        name.split('"')[1] for name in health["alarmRule"].split(" OR ")}


def test_dashboard_body_sent_to_the_provider_is_well_formed_and_lists_the_alarms(routed):
    dashboard = routed.one("aws:cloudwatch/dashboard:Dashboard").inputs
    assert dashboard["dashboardName"] == "prod-auth"
    body = json.loads(dashboard["dashboardBody"])
    assert body_problems(body) == []
    alarm_widget = next(w for w in body["widgets"] if w["type"] == "alarm")
    assert len(alarm_widget["properties"]["alarms"]) == 9


def test_error_lines_metric_filter_and_saved_queries_are_valid_logs_api_requests(routed):
    log_filter = routed.one("aws:cloudwatch/logMetricFilter:LogMetricFilter").inputs
    assert log_filter["pattern"] == '{ $.level = "ERROR" }'
    transformation = log_filter["metricTransformation"]
    assert request_problems("logs", "PutMetricFilter", {
        "logGroupName": log_filter["logGroupName"], "filterName": log_filter["name"],
        "filterPattern": log_filter["pattern"], "metricTransformations": [{
            "metricName": transformation["name"], "metricNamespace": transformation["namespace"],
            "metricValue": transformation["value"], "unit": transformation["unit"],
            "dimensions": transformation["dimensions"]}]}) == []
    assert transformation["namespace"] == "matbakh/platform/prod"
    assert transformation["dimensions"] == {"service": "$.service"}
    queries = routed.of_type("aws:cloudwatch/queryDefinition:QueryDefinition")
    assert sorted(q.inputs["name"] for q in queries) == ["prod/auth/errors-by-trace-id", "prod/auth/slowest-requests"]
    for query in queries:
        assert request_problems("logs", "PutQueryDefinition", {
            "name": query.inputs["name"], "queryString": query.inputs["queryString"],
            "logGroupNames": query.inputs["logGroupNames"]}) == []


def test_every_child_hangs_under_the_component(routed):
    component = routed.one("microservices:observability:ServiceObservability")
    children = [r for r in routed.resources if r.parent == component.urn]
    assert len(children) == len(routed.resources) - 2  # all but the provider and the component itself


def test_alarms_cannot_notify_a_topic_in_another_region():
    with pytest.raises(ValueError, match="must be in the alarm's region"):
        _args(alerts=AlertDestination("arn:aws:sns:us-east-1:1:x", "x", "us-east-1"))


def test_alert_topic_is_encrypted_and_subscribes_the_configured_people():
    def program():
        provider = aws.Provider("euc1", region=REGION)
        AlertRouting("prod-alerts", AlertRoutingArgs(
            topic_name="prod-alerts", region=REGION, account_id=ACCOUNT_ID, emails=("ops@example.com",),
            kms_key_arn=f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/platform",
            https_endpoint="https://pager.example.com/x"),
            pulumi.ResourceOptions(provider=provider))
    recorder, _ = run_program(program, project="microservices-foundation", stack="prod", region=REGION)
    topic = recorder.one("aws:sns/topic:Topic").inputs
    assert topic["kmsMasterKeyId"] == f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/platform"
    subscriptions = {s.inputs["protocol"]: s.inputs["endpoint"] for s in recorder.of_type(
        "aws:sns/topicSubscription:TopicSubscription")}
    assert subscriptions == {"email": "ops@example.com", "https": "https://pager.example.com/x"}
    assert recorder.of_type("aws:kms/key:Key") == []
    policy = json.loads(recorder.one("aws:sns/topicPolicy:TopicPolicy").inputs["policy"])
    assert judge_policy_document(policy, "resource") == []


def test_own_key_variant_creates_a_rotating_key_in_the_topics_region_for_the_us_east_1_copy():
    def program():
        provider = aws.Provider("euc1", region=REGION)
        AlertRouting("prod-failover-alerts", AlertRoutingArgs(
            topic_name="prod-failover-alerts", region="us-east-1", account_id=ACCOUNT_ID, emails=("ops@example.com",),
            resource_region="us-east-1"), pulumi.ResourceOptions(provider=provider))
    recorder, _ = run_program(program, project="microservices-foundation", stack="prod", region=REGION)
    key = recorder.one("aws:kms/key:Key").inputs
    assert key["enableKeyRotation"] is True and key["region"] == "us-east-1"
    assert judge_policy_document(json.loads(key["policy"]), "key") == []
    assert {r.inputs.get("region") for r in recorder.resources if r.type.startswith(("aws:sns", "aws:kms"))} == {
        "us-east-1"}


def test_key_statements_admit_exactly_the_three_publishers_for_this_topic_only():
    statements = publisher_key_statements(TOPIC, ACCOUNT_ID, REGION)
    assert [s["Principal"]["Service"] for s in statements] == [
        "cloudwatch.amazonaws.com", "budgets.amazonaws.com", "events.amazonaws.com"]
    for statement in statements:
        assert statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
        assert statement["Condition"]["StringEquals"]["kms:EncryptionContext:aws:sns:topicArn"] == TOPIC
    assert statements[0]["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT_ID
    assert statements[0]["Condition"]["ArnLike"]["aws:SourceArn"] == f"arn:aws:cloudwatch:{REGION}:{ACCOUNT_ID}:alarm:*"
    assert judge_policy_document({"Version": "2012-10-17", "Statement": statements}, "key") == []


def test_topic_policy_holds_publishers_to_this_account_and_refuses_plain_http():
    statements = {s["Sid"]: s for s in topic_policy(TOPIC, ACCOUNT_ID, REGION)["Statement"]}
    assert statements["BudgetsPublish"]["Condition"]["ArnLike"]["aws:SourceArn"] == f"arn:aws:budgets::{ACCOUNT_ID}:*"
    assert statements["EventBridgeRulesPublish"]["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT_ID
    assert statements["DenyPublishWithoutTls"]["Effect"] == "Deny"
    assert all(s["Resource"] == TOPIC for s in statements.values())


@pytest.mark.parametrize("overrides, message", [
    (dict(topic_name="prod alerts"), "topic name"), (dict(emails=("not-an-address",)), "e-mail"),
    (dict(https_endpoint="http://pager"), "https://")])
def test_alert_routing_refuses_what_sns_would_reject(overrides, message):
    values = dict(topic_name="prod-alerts", region=REGION, account_id=ACCOUNT_ID, emails=())
    values.update(overrides)
    with pytest.raises(ValueError, match=message):
        AlertRoutingArgs(**values)
