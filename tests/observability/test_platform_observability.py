"""Stack-level observability: stack health, quotas, X-Ray sampling, failover alarms, audit trail."""

import json

import pulumi
import pulumi_aws as aws
import pytest

from components.observability.alarm_specs import put_composite_alarm_request, put_metric_alarm_request
from components.observability.alert_routing import AlertDestination
from components.observability.audit import AuditTrail, AuditTrailArgs, trail_arn, trail_bucket_policy, trail_key_policy
from components.observability.failover_alarms import (
    FailoverAlarms,
    FailoverAlarmsArgs,
    OwnHealthCheck,
    health_check_alarm,
)
from components.observability.quotas import QuotaAlarms, QuotaAlarmsArgs, quota_alarms
from components.observability.slo import AlbSource, stack_composite
from components.observability.stack_health import StackHealth, StackHealthArgs, StackService
from components.observability.tracing import TraceSampling, TraceSamplingArgs, sampling_rule_request
from devkit.mocks import ACCOUNT_ID, run_program
from foundation.settings.defaults import ENVIRONMENT_DEFAULTS
from policies.iam_documents import judge_policy_document
from tests.observability.aws_models import request_problems
from tests.observability.dashboard_schema import body_problems

REGION = "eu-central-1"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:prod-alerts"
ALERTS = AlertDestination(TOPIC, "prod-alerts", REGION)
US_EAST_ALERTS = AlertDestination(f"arn:aws:sns:us-east-1:{ACCOUNT_ID}:prod-failover-alerts",
                                  "prod-failover-alerts", "us-east-1")


def run(build, region=REGION):
    def program():
        build(pulumi.ResourceOptions(provider=aws.Provider("p", region=region)))
    recorder, _ = run_program(program, project="microservices-foundation", stack="prod", region=region)
    return recorder


def test_stack_health_pages_on_any_service_health_alarm_and_draws_a_valid_overview():
    services = (StackService("auth", "prod-auth-health",
                             f"arn:aws:cloudwatch:{REGION}:{ACCOUNT_ID}:alarm:prod-auth-health",
                             AlbSource("app/prod-alb/1", ("targetgroup/a/1", "targetgroup/b/2"))),
                StackService("ledger", "prod-ledger-health",
                             f"arn:aws:cloudwatch:{REGION}:{ACCOUNT_ID}:alarm:prod-ledger-health"))
    recorder = run(lambda opts: StackHealth("prod-health", StackHealthArgs("prod", REGION, "prod-cluster", ALERTS,
                                                                         services), opts))
    composite = recorder.one("aws:cloudwatch/compositeAlarm:CompositeAlarm").inputs
    assert composite["alarmRule"] == 'ALARM("prod-auth-health") OR ALARM("prod-ledger-health")'
    assert composite["alarmActions"] == composite["okActions"] == [TOPIC]
    body = json.loads(recorder.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    assert body_problems(body) == []
    assert request_problems("cloudwatch", "PutCompositeAlarm", put_composite_alarm_request(
        stack_composite("prod", ["prod-auth-health", "prod-ledger-health"]), [TOPIC])) == []


def test_fargate_quota_alarms_compare_usage_with_service_quota_and_page_directly():
    specs = {spec.key: spec for spec in quota_alarms("prod")}
    on_demand = specs["fargate-on-demand-vcpu"]
    usage = on_demand.queries[0].metric
    assert (usage.namespace, usage.name) == ("AWS/Usage", "ResourceCount")
    assert usage.dimensions == {"Service": "Fargate", "Type": "Resource", "Resource": "vCPU",
                                "Class": "Standard/OnDemand"}
    assert specs["fargate-spot-vcpu"].queries[0].metric.dimensions["Class"] == "Standard/Spot"
    assert on_demand.queries[1].expression == "100 * usage / SERVICE_QUOTA(usage)"
    assert on_demand.threshold == 80.0
    for spec in specs.values():
        assert request_problems("cloudwatch", "PutMetricAlarm", put_metric_alarm_request(spec, [TOPIC], [TOPIC])) == []
    recorder = run(lambda opts: QuotaAlarms("prod-quotas", QuotaAlarmsArgs("prod", REGION, ALERTS, spot=False), opts))
    (alarm,) = recorder.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert alarm.inputs["alarmActions"] == alarm.inputs["okActions"] == [TOPIC]


@pytest.mark.parametrize("environment", ["staging", "prod"])
def test_xray_rule_samples_at_the_same_ratio_as_the_apps_sampler(environment):
    ratio = ENVIRONMENT_DEFAULTS[environment].trace_sampling_ratio
    rule = sampling_rule_request(TraceSamplingArgs(environment, environment, ratio))
    assert rule["FixedRate"] == ratio and rule["ReservoirSize"] == 0
    assert request_problems("xray", "CreateSamplingRule", {"SamplingRule": rule}) == []
    recorder = run(lambda opts: TraceSampling(f"{environment}-sampling", TraceSamplingArgs(
        environment, environment, ratio), opts=opts))
    assert recorder.one("aws:xray/samplingRule:SamplingRule").inputs["fixedRate"] == ratio
    assert {"staging": 1.0, "prod": 0.1}[environment] == ratio


def test_primary_failover_alarm_watches_the_route53_health_check_in_us_east_1():
    recorder = run(lambda opts: FailoverAlarms("prod-failover", FailoverAlarmsArgs(
        "prod", "primary", US_EAST_ALERTS, health_check_id="hc-123"), opts))
    alarm = recorder.one("aws:cloudwatch/metricAlarm:MetricAlarm").inputs
    assert alarm["region"] == "us-east-1"
    assert (alarm["namespace"], alarm["metricName"], alarm["statistic"]) == (
        "AWS/Route53", "HealthCheckStatus", "Minimum")
    assert alarm["dimensions"] == {"HealthCheckId": "hc-123"}
    assert alarm["comparisonOperator"] == "LessThanThreshold" and alarm["threshold"] == 1
    assert alarm["alarmActions"] == alarm["okActions"] == [US_EAST_ALERTS.topic_arn]
    assert recorder.of_type("aws:route53/healthCheck:HealthCheck") == []
    assert request_problems("cloudwatch", "PutMetricAlarm",
                            put_metric_alarm_request(health_check_alarm("prod", "primary", "hc-123"))) == []


def test_standby_checks_its_own_alb_through_its_own_provider_only():
    check = OwnHealthCheck("prod-euw1-alb-1.eu-west-1.elb.amazonaws.com", "/health", 30, 3,
                           ("eu-west-1", "us-east-1", "us-west-2"))
    recorder = run(lambda opts: FailoverAlarms("prod-euw1-failover", FailoverAlarmsArgs(
        "prod-euw1", "standby", AlertDestination("arn:aws:sns:us-east-1:1:prod-euw1-failover-alerts",
                                                 "prod-euw1-failover-alerts", "us-east-1"), own_check=check), opts),
        region="eu-west-1")
    health = recorder.one("aws:route53/healthCheck:HealthCheck").inputs
    assert health["fqdn"] == check.alb_dns_name and health["type"] == "HTTPS"
    alarm = recorder.one("aws:cloudwatch/metricAlarm:MetricAlarm").inputs
    assert alarm["name"] == "prod-euw1-standby-endpoint-unhealthy"
    assert not any("eu-central-1" in json.dumps(r.inputs) for r in recorder.resources)


def test_failover_alarms_refuse_a_topic_outside_us_east_1():
    with pytest.raises(ValueError, match="us-east-1"):
        FailoverAlarmsArgs("prod", "primary", ALERTS, health_check_id="hc")


def test_audit_trail_is_multi_region_validated_kms_encrypted_in_a_locked_down_bucket():
    recorder = run(lambda opts: AuditTrail("audit", AuditTrailArgs(
        "microservices-audit", REGION, ACCOUNT_ID, ("eu-central-1", "eu-west-1")), opts))
    trail = recorder.one("aws:cloudtrail/trail:Trail").inputs
    assert trail["isMultiRegionTrail"] and trail["enableLogFileValidation"] and trail["includeGlobalServiceEvents"]
    assert trail["kmsKeyId"] == recorder.one("aws:kms/key:Key").outputs["arn"]
    block = recorder.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert all(block[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    assert recorder.one("aws:s3/bucketVersioning:BucketVersioning").inputs["versioningConfiguration"] == {
        "status": "Enabled"}
    rules = recorder.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs["rules"]
    assert rules[0]["expiration"]["days"] == 400
    analyzers = recorder.of_type("aws:accessanalyzer/analyzer:Analyzer")
    assert sorted(a.inputs["region"] for a in analyzers) == ["eu-central-1", "eu-west-1"]
    assert {a.inputs["type"] for a in analyzers} == {"ACCOUNT"}
    trail_resource = recorder.one("aws:cloudtrail/trail:Trail")
    assert recorder.one("aws:s3/bucketPolicy:BucketPolicy").urn in trail_resource.dependencies


def test_audit_bucket_and_key_policies_follow_cloudtrails_documented_form_and_pass_the_pack():
    trail = trail_arn(REGION, ACCOUNT_ID, "microservices-audit")
    bucket = trail_bucket_policy("arn:aws:s3:::audit-bucket", ACCOUNT_ID, trail)
    statements = {s["Sid"]: s for s in bucket["Statement"]}
    assert statements["CloudTrailWrite"]["Resource"] == f"arn:aws:s3:::audit-bucket/AWSLogs/{ACCOUNT_ID}/*"
    assert statements["CloudTrailWrite"]["Condition"]["StringEquals"] == {
        "aws:SourceArn": trail, "s3:x-amz-acl": "bucket-owner-full-control"}
    assert statements["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    key = {s["Sid"]: s for s in trail_key_policy(ACCOUNT_ID, trail)["Statement"]}
    assert key["CloudTrailEncryptsLogs"]["Condition"]["StringLike"] == {
        "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{ACCOUNT_ID}:trail/*"}
    assert judge_policy_document(bucket, "resource") == []
    assert judge_policy_document(trail_key_policy(ACCOUNT_ID, trail), "key") == []


@pytest.mark.parametrize("overrides, message", [(dict(trail_name="a"), "trail name"),
                                                (dict(retention_days=30), "90 days")])
def test_audit_args_refuse_invalid_values(overrides, message):
    values = dict(trail_name="microservices-audit", home_region=REGION, account_id=ACCOUNT_ID,
                  analyzer_regions=(REGION,))
    values.update(overrides)
    with pytest.raises(ValueError, match=message):
        AuditTrailArgs(**values)
