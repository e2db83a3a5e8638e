"""SLO alarm specs: thresholds, metric math and composite rules, validated against botocore's CloudWatch model."""

import re

import pytest

from components.observability.alarm_specs import (
    AlarmSpec,
    CompositeSpec,
    Metric,
    Query,
    is_statistic,
    metric_alarm_args,
    put_composite_alarm_request,
    put_metric_alarm_request,
)
from components.observability.logs import error_line_metric
from components.observability.slo import (
    AlbSource,
    ServiceAlarmInputs,
    SloTargets,
    service_alarms,
    service_composite,
    stack_composite,
)
from tests.observability.aws_models import request_problems

TOPIC = "arn:aws:sns:eu-central-1:123456789012:prod-alerts"
ALB = AlbSource("app/prod-alb/0123456789abcdef", ("targetgroup/prod-auth-a/1111", "targetgroup/prod-auth-b/2222"))


def routed(**slo) -> ServiceAlarmInputs:
    return ServiceAlarmInputs("prod", "auth", "prod-cluster", SloTargets(**slo), alb=ALB,
                              error_log_metric=error_line_metric("prod", "auth"))


def internal(**slo) -> ServiceAlarmInputs:
    return ServiceAlarmInputs("prod", "ledger", "prod-cluster", SloTargets(**slo))


def by_key(inputs: ServiceAlarmInputs) -> dict[str, AlarmSpec]:
    return {spec.key: spec for spec in service_alarms(inputs)}


def returned(spec: AlarmSpec) -> Query:
    (query,) = [q for q in spec.queries if q.return_data]
    return query


@pytest.mark.parametrize("inputs", [routed(), internal()], ids=["routed", "internal"])
def test_every_alarm_is_a_put_metric_alarm_request_cloudwatch_accepts(inputs):
    for spec in service_alarms(inputs):
        assert request_problems("cloudwatch", "PutMetricAlarm", put_metric_alarm_request(spec, [TOPIC], [TOPIC])) == []


def test_the_seed_slos_are_the_defaults_p95_200_ms_error_rate_1_percent_p99_500_ms():
    alarms = by_key(routed())
    assert alarms["p95-latency"].threshold == 200
    assert alarms["p99-latency"].threshold == 500
    assert alarms["error-rate"].threshold == 1.0
    assert alarms["error-rate"].comparison == "GreaterThanThreshold"


def test_stack_overrides_reach_the_thresholds():
    alarms = by_key(routed(p95_latency_ms=150, p99_latency_ms=400, error_rate_percent=0.5, cpu_percent=70))
    assert (alarms["p95-latency"].threshold, alarms["p99-latency"].threshold) == (150, 400)
    assert alarms["error-rate"].threshold == 0.5
    assert alarms["cpu-saturation"].threshold == 70


def test_routed_error_rate_sums_both_target_groups_and_is_zero_below_the_traffic_guard():
    spec = by_key(routed(min_requests_per_minute=30))["error-rate"]
    queries = {q.id: q for q in spec.queries}
    assert {queries[i].metric.dimensions["TargetGroup"] for i in ("e_a", "r_a", "e_b", "r_b")} == set(ALB.target_groups)
    assert queries["e_a"].metric.name == "HTTPCode_Target_5XX_Count" and queries["r_b"].metric.name == "RequestCount"
    assert all(queries[i].metric.stat == "Sum" for i in ("e_a", "e_b", "r_a", "r_b"))
    assert queries["errors"].expression == "FILL(e_a, 0) + FILL(e_b, 0)"
    assert queries["requests"].expression == "FILL(r_a, 0) + FILL(r_b, 0)"
    assert returned(spec).expression == "IF(requests >= 30, 100 * errors / requests, 0)"


def evaluate(expression: str, **series: float) -> float:
    """A tiny evaluator for the IF/arith subset the alarms use, to prove what the math returns."""
    python = re.sub(r"IF\((.+?), (.+?), (.+?)\)$", r"(\2) if (\1) else (\3)", expression)
    return eval(python, {}, series)


@pytest.mark.parametrize("errors, requests, expected", [(1, 10, 0), (1, 19, 0), (1, 20, 5.0), (0, 500, 0.0),
                                                        (3, 100, 3.0)])
def test_the_guard_keeps_a_quiet_service_from_paging_on_one_failed_request(errors, requests, expected):
    spec = by_key(routed())["error-rate"]
    assert evaluate(returned(spec).expression, errors=errors, requests=requests) == expected


def test_routed_latency_is_the_worse_target_group_in_milliseconds_with_percentile_stats():
    spec = by_key(routed())["p99-latency"]
    queries = {q.id: q for q in spec.queries}
    assert queries["l_a"].metric.stat == queries["l_b"].metric.stat == "p99"
    assert queries["l_a"].metric.name == "TargetResponseTime"
    assert returned(spec).expression == "IF(requests >= 20, 1000 * MAX([FILL(l_a, 0), FILL(l_b, 0)]), 0)"


def test_internal_services_read_service_connect_metrics_with_their_documented_dimensions():
    alarms = by_key(internal())
    latency = {q.id: q for q in alarms["p95-latency"].queries}
    errors = {q.id: q for q in alarms["error-rate"].queries}
    assert latency["l_sc"].metric.namespace == "AWS/ECS"
    assert latency["l_sc"].metric.dimensions == {"TargetDiscoveryName": "ledger"}
    assert errors["e_sc"].metric.dimensions == {"TargetDiscoveryName": "ledger"}
    assert errors["r_sc"].metric.dimensions == {"DiscoveryName": "ledger", "ServiceName": "ledger",
                                                "ClusterName": "prod-cluster"}
    # Service Connect TargetResponseTime is already in milliseconds.
    assert returned(alarms["p95-latency"]).expression == "IF(requests >= 20, FILL(l_sc, 0), 0)"
    assert "unhealthy-hosts" not in alarms


def test_task_and_saturation_alarms_use_container_insights_and_ecs_service_dimensions():
    alarms = by_key(routed())
    tasks = {q.id: q for q in alarms["tasks-below-desired"].queries}
    assert tasks["running"].metric.namespace == "ECS/ContainerInsights"
    assert tasks["desired"].metric.name == "DesiredTaskCount"
    assert tasks["running"].metric.dimensions == {"ServiceName": "auth", "ClusterName": "prod-cluster"}
    assert alarms["tasks-below-desired"].treat_missing_data == "breaching"
    cpu = alarms["cpu-saturation"].metric
    assert (cpu.namespace, cpu.name, cpu.stat) == ("AWS/ECS", "CPUUtilization", "Average")
    assert cpu.dimensions == {"ClusterName": "prod-cluster", "ServiceName": "auth"}


def test_single_metric_percentile_becomes_an_extended_statistic():
    spec = AlarmSpec("x", "prod-x", "d", "GreaterThanThreshold", 1, 1, 1, "notBreaching",
                     metric=Metric("AWS/ECS", "TargetResponseTime", {"TargetDiscoveryName": "x"}, "p99.9"))
    request = put_metric_alarm_request(spec)
    assert request["ExtendedStatistic"] == "p99.9" and "Statistic" not in request
    assert request_problems("cloudwatch", "PutMetricAlarm", request) == []
    assert metric_alarm_args(spec)["extended_statistic"] == "p99.9"


@pytest.mark.parametrize("stat, valid", [("p95", True), ("p99.9", True), ("p100", True), ("Sum", True),
                                         ("p101", False), ("P95", False), ("avg", False), ("p", False)])
def test_statistic_names_follow_cloudwatch(stat, valid):
    assert is_statistic(stat) is valid


def test_specs_aws_would_reject_fail_before_any_resource():
    metric = Metric("AWS/ECS", "CPUUtilization", {}, "Average")
    with pytest.raises(ValueError, match="must start with a lowercase letter"):
        Query("Errors", metric=metric)
    with pytest.raises(ValueError, match="exactly one query must return data"):
        AlarmSpec("x", "x", "d", "GreaterThanThreshold", 1, 1, 1, "missing",
                  queries=(Query("a", metric=metric), Query("b", expression="a")))
    with pytest.raises(ValueError, match="alarm name"):
        AlarmSpec("x", "a" * 256, "d", "GreaterThanThreshold", 1, 1, 1, "missing", metric=metric)
    with pytest.raises(ValueError, match="exceeds one day"):
        AlarmSpec("x", "x", "d", "GreaterThanThreshold", 1, 1441, 1, "missing", metric=metric)
    with pytest.raises(ValueError, match="statistic"):
        Metric("AWS/ECS", "CPUUtilization", {}, "Median")


def test_service_composite_ors_all_its_alarms_and_cloudwatch_accepts_it():
    inputs = routed()
    specs = service_alarms(inputs)
    composite = service_composite(inputs, specs)
    assert composite.name == "prod-auth-health"
    assert composite.rule == " OR ".join(f'ALARM("{s.name}")' for s in specs)
    assert len(specs) == 8
    request = put_composite_alarm_request(composite, [TOPIC])
    assert request["AlarmActions"] == request["OKActions"] == [TOPIC]
    assert request_problems("cloudwatch", "PutCompositeAlarm", request) == []


def test_stack_composite_ors_the_service_health_alarms():
    composite = stack_composite("prod", ["prod-auth-health", "prod-ledger-health"])
    assert composite.rule == 'ALARM("prod-auth-health") OR ALARM("prod-ledger-health")'
    with pytest.raises(ValueError, match="at most 100 children"):
        CompositeSpec("x", "d", tuple(f"a{i}" for i in range(101)))
    with pytest.raises(ValueError, match="at least one child"):
        stack_composite("prod", [])


@pytest.mark.parametrize("slo, message", [
    (dict(p95_latency_ms=600), "p95"), (dict(error_rate_percent=0), "error rate"),
    (dict(min_requests_per_minute=0), "minimum-traffic"), (dict(cpu_percent=120), "cpu")])
def test_slo_targets_refuse_impossible_values(slo, message):
    with pytest.raises(ValueError, match=message):
        SloTargets(**slo)


def test_above_one_hundred_services_the_stack_alarm_names_groups_of_at_most_one_hundred():
    from components.observability.alarm_specs import COMPOSITE_CHILDREN_MAX
    from components.observability.slo import service_groups, stack_composite

    names = [f"prod-svc-{i:03d}-health" for i in range(201)]
    groups = service_groups("prod", names)
    assert [len(g.children) for g in groups] == [100, 100, 1]
    assert [child for g in groups for child in g.children] == names
    stack = stack_composite("prod", [g.name for g in groups])
    assert stack.children == ("prod-platform-health-1", "prod-platform-health-2", "prod-platform-health-3")
    assert service_groups("prod", names[:COMPOSITE_CHILDREN_MAX]) == []
