"""Observability as wired into the four stacks (session previews, no extra runs) and its settings keys."""

from __future__ import annotations

import json

import pytest
import yaml

from devkit.render import render_text
from foundation.settings import ConfigError, check_across_stacks, load_catalog, read_stack_file, settings_from_config
from tests.observability.aws_models import request_problems
from tests.observability.dashboard_schema import body_problems
from tests.test_settings import NS, _copy_project, load, staging_config

COMPOSITE = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def plain_value(value):
    """An SSM value as registered: plain, or wrapped as a secret by the engine's serialisation."""
    return value.get("value") if isinstance(value, dict) else value


@pytest.fixture(params=["staging", "staging_standby", "prod", "prod_standby"])
def any_stack(request):
    return request.getfixturevalue(request.param)


def test_every_service_has_a_paging_health_alarm_over_its_slo_alarms_and_a_valid_dashboard(any_stack):
    recorder, prefix = any_stack.recorder, any_stack.settings.name_prefix
    topic = next(t for t in recorder.of_type("aws:sns/topic:Topic") if t.inputs["name"] == f"{prefix}-alerts")
    assert topic.inputs["kmsMasterKeyId"]
    composites = {c.inputs["alarmName"]: c.inputs for c in recorder.of_type(COMPOSITE)}
    for service in any_stack.settings.services:
        health = composites[f"{prefix}-{service.name}-health"]
        assert health["alarmActions"] == health["okActions"] == [topic.outputs["arn"]]
        # The task-count alarm reads Container Insights, so it exists only where the cluster has it.
        insights = any_stack.settings.defaults.container_insights != "disabled"
        expected = 6 + bool(service.path_prefix) + insights
        assert health["alarmRule"].count('ALARM("') == expected
    stack_health = composites[f"{prefix}-platform-health"]
    assert stack_health["alarmRule"].count('ALARM("') == len(any_stack.settings.services)
    dashboards = {d.inputs["dashboardName"]: d.inputs for d in recorder.of_type("aws:cloudwatch/dashboard:Dashboard")}
    assert set(dashboards) == {f"{prefix}-{s.name}" for s in any_stack.settings.services} | {f"{prefix}-overview"}
    for body in dashboards.values():
        assert body_problems(json.loads(body["dashboardBody"])) == []


def test_every_alarm_the_stack_registers_is_a_valid_put_metric_alarm_request(prod):
    for alarm in prod.recorder.of_type(METRIC_ALARM):
        inputs = alarm.inputs
        request = {"AlarmName": inputs["name"], "ComparisonOperator": inputs["comparisonOperator"],
                   "Threshold": float(inputs["threshold"]), "EvaluationPeriods": int(inputs["evaluationPeriods"]),
                   "AlarmActions": inputs.get("alarmActions", []), "OKActions": inputs.get("okActions", [])}
        if inputs.get("metricQueries"):
            request["Metrics"] = [{"Id": q["id"], "ReturnData": q.get("returnData", False),
                                   **({"Expression": q["expression"]} if "expression" in q else {"MetricStat": {
                                       "Metric": {"Namespace": q["metric"]["namespace"],
                                                  "MetricName": q["metric"]["metricName"],
                                                  "Dimensions": [{"Name": k, "Value": str(v)} for k, v in
                                                                 q["metric"].get("dimensions", {}).items()]},
                                       "Period": int(q["metric"]["period"]), "Stat": q["metric"]["stat"]}})}
                                  for q in inputs["metricQueries"]]
        assert request_problems("cloudwatch", "PutMetricAlarm", request) == [], inputs["name"]


def test_the_platform_key_admits_the_publishers_of_exactly_the_stacks_alert_topic(prod):
    key = prod.recorder.one("aws:kms/key:Key", "prod-eu-central-1-key")
    statements = {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}
    topic_arn = "arn:aws:sns:eu-central-1:123456789012:prod-alerts"
    for sid in ("CloudWatchAlarmsPublishToAlertTopic", "BudgetsPublishToAlertTopic",
                "EventBridgePublishesToAlertTopic"):
        assert statements[sid]["Condition"]["StringEquals"]["kms:EncryptionContext:aws:sns:topicArn"] == topic_arn
    topic = next(t for t in prod.recorder.of_type("aws:sns/topic:Topic") if t.inputs["name"] == "prod-alerts")
    assert topic.outputs["arn"] == topic_arn


def test_only_the_audit_owner_has_the_trail_and_analyzers(staging, staging_standby, prod, prod_standby):
    assert len(prod.recorder.of_type("aws:cloudtrail/trail:Trail")) == 1
    for other in (staging, staging_standby, prod_standby):
        assert other.recorder.of_type("aws:cloudtrail/trail:Trail") == []
        assert other.recorder.of_type("aws:accessanalyzer/analyzer:Analyzer") == []


def test_failover_alarms_live_in_us_east_1_and_the_standby_names_no_eu_central_1_resource(prod, prod_standby):
    for preview, role in ((prod, "primary"), (prod_standby, "standby")):
        alarm = next(a for a in preview.recorder.of_type(METRIC_ALARM)
                     if a.inputs["name"] == f"{preview.settings.name_prefix}-{role}-endpoint-unhealthy")
        assert alarm.inputs["region"] == "us-east-1"
    failover = [r for r in prod_standby.recorder.resources if "FailoverAlarms" in r.urn or "failover-alerts" in r.urn]
    assert failover and not any("eu-central-1" in json.dumps(r.inputs) for r in failover)


def test_staging_logs_at_debug_and_prod_at_info_through_the_services_config(staging, prod):
    for preview, level in ((staging, "DEBUG"), (prod, "INFO")):
        parameters = {p.inputs["name"]: plain_value(p.inputs["value"])
                      for p in preview.recorder.of_type("aws:ssm/parameter:Parameter")}
        for service in preview.settings.services:
            assert parameters[f"/{preview.settings.environment}/{service.name}/LOG_LEVEL"] == level


def test_the_preview_prints_each_services_alarms_thresholds_pages_and_dashboard(prod):
    text = render_text(prod)
    assert "health alarm prod-auth-health -> SNS prod-alerts (ALARM and OK); dashboard prod-auth" in text
    assert "prod-auth-slo-p95-latency: p95 response time (ms) > 200 in 3 of 5 x 60 s -> via prod-auth-health" in text
    assert "prod-primary-endpoint-unhealthy: HealthCheckStatus Minimum < 1 in 2 of 2 x 60 s -> SNS " \
           "prod-failover-alerts (us-east-1) (ALARM and OK)" in text


def test_a_stack_overrides_slo_targets_and_log_level():
    settings = load(staging_config(**{f"{NS}:slo": {"p95LatencyMs": 150, "p99LatencyMs": 400},
                                      f"{NS}:logs": {"level": "WARN"}}))
    assert settings.config.slo.targets().p95_latency_ms == 150
    assert all(s.config["LOG_LEVEL"] == "WARN" for s in settings.services)


@pytest.mark.parametrize("key, value, message", [
    ("slo", {"p95LatencyMs": 600, "p99LatencyMs": 500}, "p95LatencyMs"),
    ("logs", {"level": "TRACE"}, "logs.level"),
    ("alerts", {"httpsEndpoint": "http://pager"}, "alerts.httpsEndpoint"),
])
def test_bad_observability_settings_name_the_key(key, value, message):
    with pytest.raises(ConfigError, match=message):
        load(staging_config(**{f"{NS}:{key}": value}))


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_a_stack_without_anyone_to_page_is_a_config_error(stack):
    config = dict(read_stack_file(stack).config)
    del config[f"{NS}:alerts"]
    with pytest.raises(ConfigError, match=r"alerts\.emails or alerts\.httpsEndpoint is required in every stack"):
        load(config, stack)


def test_the_catalog_cannot_set_the_log_level(tmp_path):
    project = _copy_project(tmp_path)
    catalog = project / "platform" / "services.yaml"
    document = yaml.safe_load(catalog.read_text())
    document["services"]["auth"]["config"] = {"LOG_LEVEL": "info"}
    catalog.write_text(yaml.safe_dump(document))
    with pytest.raises(ConfigError, match="LOG_LEVEL"):
        settings_from_config("staging", read_stack_file("staging", project).config, load_catalog(catalog))


@pytest.mark.parametrize("stack, owner, message", [("prod", False, "no stack owns the audit trail"),
                                                   ("staging", True, "all own the audit trail"),
                                                   ("prod-euw1", True, "all own the audit trail")])
def test_exactly_one_primary_per_account_owns_the_audit_trail(tmp_path, stack, owner, message):
    project = _copy_project(tmp_path)
    path = project / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text())
    document["config"][f"{NS}:audit"] = {"owner": owner}
    path.write_text(yaml.safe_dump(document))
    settings = settings_from_config("prod", read_stack_file("prod", project).config,
                                    load_catalog(project / "platform" / "services.yaml"))
    with pytest.raises(ConfigError, match=message):
        check_across_stacks(settings, project)
