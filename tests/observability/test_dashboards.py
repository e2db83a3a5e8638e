"""Dashboard bodies: the typed builder's layout and both platform dashboards against the documented structure."""

import json

import pytest

from components.observability.dashboards import (
    Dashboard,
    ExpressionLine,
    LogWidget,
    MetricLine,
    MetricWidget,
    OverviewInputs,
    OverviewService,
    ServiceDashboardInputs,
    TextWidget,
    overview_dashboard,
    service_dashboard,
)
from components.observability.logs import error_line_metric
from components.observability.slo import SloTargets
from tests.observability.dashboard_schema import body_problems

ALARM = "arn:aws:cloudwatch:eu-central-1:123456789012:alarm:prod-auth-health"
ALB = ("app/prod-alb/0123456789abcdef", ("targetgroup/prod-auth-a/1111", "targetgroup/prod-auth-b/2222"))


def routed_inputs(**overrides) -> ServiceDashboardInputs:
    values = dict(region="eu-central-1", name_prefix="prod", service_name="auth", cluster_name="prod-cluster",
                  log_group_name="/ecs/prod/auth", slo=SloTargets(), alb=ALB, alarm_arns=(ALARM,),
                  error_log_metric=error_line_metric("prod", "auth"))
    values.update(overrides)
    return ServiceDashboardInputs(**values)


def widget_titled(body: dict, prefix: str) -> dict:
    (widget,) = [w for w in body["widgets"] if w["properties"].get("title", "").startswith(prefix)]
    return widget


@pytest.mark.parametrize("inputs", [routed_inputs(), routed_inputs(alb=None, service_name="ledger")],
                         ids=["routed", "internal"])
def test_service_dashboard_matches_the_documented_body_structure(inputs):
    body = json.loads(service_dashboard(inputs).json())
    assert body_problems(body) == []


def test_overview_dashboard_matches_the_documented_body_structure():
    body = overview_dashboard(OverviewInputs(
        "eu-central-1", "prod", "prod-cluster", (OverviewService("auth", ALB), OverviewService("ledger")),
        composite_alarm_arns=(ALARM,))).body()
    assert body_problems(body) == []
    usage = widget_titled(body, "Fargate vCPU")["properties"]["metrics"]
    assert usage[0][:10] == ["AWS/Usage", "ResourceCount", "Service", "Fargate", "Type", "Resource",
                             "Resource", "vCPU", "Class", "Standard/OnDemand"]
    assert usage[1] == [{"expression": "SERVICE_QUOTA(u0)", "label": "on-demand vCPU quota", "id": "q0"}]


def test_service_dashboard_shows_every_concern_an_operator_looks_at():
    titles = [w["properties"].get("title", "") for w in service_dashboard(routed_inputs()).body()["widgets"]]
    for concern in ("Alarms", "Requests", "5xx", "p50 / p95 / p99", "CPU and memory", "running / desired",
                    "Deployments", "Service Connect traffic", "ERROR log lines", "Recent ERROR log lines"):
        assert any(concern in title for title in titles), concern


def test_recent_errors_widget_queries_the_services_log_group_for_error_lines():
    widget = widget_titled(service_dashboard(routed_inputs()).body(), "Recent ERROR")
    query = widget["properties"]["query"]
    assert query.startswith("SOURCE '/ecs/prod/auth' | fields @timestamp, level, message, trace_id")
    assert 'filter level = "ERROR"' in query


def test_routed_latency_widget_draws_three_percentiles_per_target_group_with_slo_lines_in_seconds():
    widget = widget_titled(service_dashboard(routed_inputs()).body(), "Response time")
    rows = widget["properties"]["metrics"]
    assert sorted(row[-1]["stat"] for row in rows) == ["p50", "p50", "p95", "p95", "p99", "p99"]
    assert rows[0][:6] == ["AWS/ApplicationELB", "TargetResponseTime", "TargetGroup", ALB[1][0],
                           "LoadBalancer", ALB[0]]
    assert widget["properties"]["annotations"]["horizontal"] == [{"label": "p95 SLO (s)", "value": 0.2},
                                                                 {"label": "p99 SLO (s)", "value": 0.5}]


def test_layout_packs_rows_of_24_columns_and_starts_a_new_row_when_a_widget_does_not_fit():
    line = MetricLine("AWS/ECS", "CPUUtilization", (("ClusterName", "c"), ("ServiceName", "s")))
    body = Dashboard((TextWidget("# t", width=24, height=2), MetricWidget("a", (line,), "eu-west-1", width=16),
                      MetricWidget("b", (line,), "eu-west-1", width=8, height=4),
                      MetricWidget("c", (line,), "eu-west-1", width=12))).body()
    assert [(w["x"], w["y"]) for w in body["widgets"]] == [(0, 0), (0, 2), (16, 2), (0, 8)]
    assert body_problems(body) == []


def test_metric_rows_take_the_documented_array_form():
    assert MetricLine("AWS/ECS", "CPUUtilization", (("ClusterName", "c"),), stat="p99", id="m1").row() == [
        "AWS/ECS", "CPUUtilization", "ClusterName", "c", {"stat": "p99", "id": "m1"}]
    assert ExpressionLine("m1 * 100", "pct", "e1").row() == [{"expression": "m1 * 100", "label": "pct", "id": "e1"}]


@pytest.mark.parametrize("broken, problem", [
    ({"widgets": [{"type": "metric", "x": 20, "y": 0, "width": 8, "height": 6,
                   "properties": {"region": "eu-west-1", "metrics": [["AWS/ECS", "CPUUtilization"]]}}]},
     "exceeds the 24-column grid"),
    ({"widgets": [{"type": "metric", "x": 0, "y": 0, "width": 6, "height": 6,
                   "properties": {"metrics": [["AWS/ECS", "CPUUtilization"]]}}]}, "region is required"),
    ({"widgets": [{"type": "metric", "x": 0, "y": 0, "width": 6, "height": 6,
                   "properties": {"region": "eu-west-1", "metrics": [["AWS/ECS", "CPUUtilization", "ClusterName"]]}}]},
     "DimName, DimValue"),
    ({"widgets": [{"type": "log", "x": 0, "y": 0, "width": 6, "height": 6,
                   "properties": {"region": "eu-west-1", "query": "fields @message"}}]}, "SOURCE"),
    ({"widgets": [{"type": "graph", "x": 0, "y": 0, "width": 6, "height": 6, "properties": {}}]}, "type 'graph'"),
    ({"widgets": [{"type": "text", "x": 0, "y": 0, "width": 6, "height": 6, "properties": {"markdown": "a"}},
                  {"type": "text", "x": 3, "y": 2, "width": 6, "height": 6, "properties": {"markdown": "b"}}]},
     "overlaps"),
])
def test_the_validator_catches_what_the_documented_structure_forbids(broken, problem):
    assert any(problem in p for p in body_problems(broken))


def test_builder_refuses_widgets_wider_than_the_grid():
    with pytest.raises(ValueError, match="width 1-24"):
        Dashboard((LogWidget("l", ("/g",), "fields @message", "eu-west-1", width=25),))
