"""A small typed builder for CloudWatch dashboard bodies, and the two dashboards the platform draws.

The body format is AWS's "Dashboard Body Structure and Syntax" (CloudWatch API reference): a JSON object
with a `widgets` array; each widget has `type`, `x`, `y`, `width` (1-24 on a 24-column grid), `height`
and `properties`; a metric row is `[Namespace, MetricName, DimName, DimValue, ..., {options}]` and an
expression row is `[{"expression": ..., "label": ..., "id": ...}]`; metric and log widgets need `region`.
tests/observability/dashboard_schema.py checks every body against that page, since the provider and the
mocks accept any string.

Builders take plain strings (resolved Outputs): the component calls them inside `Output.apply`.
Metrics beyond those the alarms read (slo.py cites those): Container Insights `PendingTaskCount`,
`DeploymentCount`, `TaskSetCount` by `ServiceName, ClusterName` (CloudWatch user guide,
Container-Insights-metrics-ECS.html); Service Connect `ActiveConnectionCount` by `DiscoveryName` (ECS
developer guide, available-metrics.html); `AWS/Usage` `ResourceCount` for Fargate vCPU (quotas.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any, Literal

from components.observability.logs import RECENT_ERRORS_QUERY, ErrorLineMetric, business_namespace
from components.observability.slo import ALB, CONTAINER_INSIGHTS, ECS, SloTargets

GRID_COLUMNS = 24
MAX_WIDGETS = 500
# PutDashboard: DashboardName up to 255 characters of letters, digits, '-' and '_'.
DASHBOARD_NAME_MAX = 255

MetricView = Literal["timeSeries", "singleValue", "bar", "pie", "gauge", "table"]
LogView = Literal["table", "timeSeries", "bar", "pie"]


@dataclass(frozen=True)
class MetricLine:
    """One metric row of a metric widget."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...] = ()
    stat: str | None = None
    label: str | None = None
    id: str | None = None
    visible: bool | None = None
    y_axis: Literal["left", "right"] | None = None

    def row(self) -> list[Any]:
        row: list[Any] = [self.namespace, self.name]
        for dimension, value in self.dimensions:
            row += [dimension, value]
        options = {key: value for key, value in (("stat", self.stat), ("label", self.label), ("id", self.id),
                                                 ("visible", self.visible), ("yAxis", self.y_axis))
                   if value is not None}
        return row + [options] if options else row


@dataclass(frozen=True)
class ExpressionLine:
    """A metric math row over the ids of other rows of the same widget."""

    expression: str
    label: str
    id: str
    y_axis: Literal["left", "right"] | None = None

    def row(self) -> list[Any]:
        options: dict[str, Any] = {"expression": self.expression, "label": self.label, "id": self.id}
        if self.y_axis:
            options["yAxis"] = self.y_axis
        return [options]


Line = MetricLine | ExpressionLine


@dataclass(frozen=True)
class MetricWidget:
    title: str
    lines: tuple[Line, ...]
    region: str
    stat: str = "Sum"
    period: int = 60
    view: MetricView = "timeSeries"
    stacked: bool = False
    # (label, value) horizontal annotations, e.g. the SLO threshold on a latency graph.
    thresholds: tuple[tuple[str, float], ...] = ()
    width: int = 12
    height: int = 6

    def properties(self) -> dict[str, Any]:
        properties: dict[str, Any] = {
            "title": self.title, "region": self.region, "metrics": [line.row() for line in self.lines],
            "stat": self.stat, "period": self.period, "view": self.view, "stacked": self.stacked}
        if self.thresholds:
            properties["annotations"] = {"horizontal": [{"label": label, "value": value}
                                                        for label, value in self.thresholds]}
        return properties

    type = "metric"


@dataclass(frozen=True)
class LogWidget:
    """A Logs Insights query over log groups (`SOURCE '<group>' | <query>`)."""

    title: str
    log_group_names: tuple[str, ...]
    query: str
    region: str
    view: LogView = "table"
    width: int = 24
    height: int = 6

    def properties(self) -> dict[str, Any]:
        sources = " | ".join(f"SOURCE '{group}'" for group in self.log_group_names)
        return {"title": self.title, "region": self.region, "query": f"{sources} | {self.query}", "view": self.view}

    type = "log"


@dataclass(frozen=True)
class TextWidget:
    markdown: str
    width: int = 24
    height: int = 2

    def properties(self) -> dict[str, Any]:
        return {"markdown": self.markdown}

    type = "text"


@dataclass(frozen=True)
class AlarmWidget:
    title: str
    alarm_arns: tuple[str, ...]
    width: int = 24
    height: int = 3

    def properties(self) -> dict[str, Any]:
        return {"title": self.title, "alarms": list(self.alarm_arns), "sortBy": "stateUpdatedTimestamp"}

    type = "alarm"


Widget = MetricWidget | LogWidget | TextWidget | AlarmWidget


@dataclass(frozen=True)
class Dashboard:
    """Widgets laid out left to right in rows of 24 columns; a widget that does not fit starts a new row."""

    widgets: tuple[Widget, ...]
    start: str = "-PT3H"

    def __post_init__(self) -> None:
        if len(self.widgets) > MAX_WIDGETS:
            raise ValueError(f"a dashboard holds at most {MAX_WIDGETS} widgets")
        for widget in self.widgets:
            if not 1 <= widget.width <= GRID_COLUMNS or not 1 <= widget.height <= 1000:
                raise ValueError(f"widget {type(widget).__name__}: width 1-{GRID_COLUMNS}, height 1-1000")

    def body(self) -> dict[str, Any]:
        placed, x, y, row_height = [], 0, 0, 0
        for widget in self.widgets:
            if x + widget.width > GRID_COLUMNS:
                x, y, row_height = 0, y + row_height, 0
            placed.append({"type": widget.type, "x": x, "y": y, "width": widget.width, "height": widget.height,
                           "properties": widget.properties()})
            x += widget.width
            row_height = max(row_height, widget.height)
        return {"start": self.start, "periodOverride": "inherit", "widgets": placed}

    def json(self) -> str:
        return json.dumps(self.body(), separators=(",", ":"))


# --- the platform's dashboards ------------------------------------------------------------------------

@dataclass(frozen=True)
class ServiceDashboardInputs:
    """One service, resolved: names, ARN suffixes and ARNs are plain strings here."""

    region: str
    name_prefix: str
    service_name: str
    cluster_name: str
    log_group_name: str
    slo: SloTargets
    # (load balancer suffix, (target group a suffix, target group b suffix)) of a routed service.
    alb: tuple[str, tuple[str, str]] | None = None
    alarm_arns: tuple[str, ...] = ()
    error_log_metric: ErrorLineMetric | None = None

    @property
    def dashboard_name(self) -> str:
        return dashboard_name(f"{self.name_prefix}-{self.service_name}")


def dashboard_name(name: str) -> str:
    if not 1 <= len(name) <= DASHBOARD_NAME_MAX or not all(c.isalnum() or c in "-_" for c in name):
        raise ValueError(f"dashboard name {name!r} must be 1-{DASHBOARD_NAME_MAX} letters, digits, '-' or '_'")
    return name


def _service_dims(inputs: ServiceDashboardInputs) -> tuple[tuple[str, str], ...]:
    return (("ClusterName", inputs.cluster_name), ("ServiceName", inputs.service_name))


def _target_groups(inputs: ServiceDashboardInputs) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    assert inputs.alb is not None
    load_balancer, groups = inputs.alb
    return [(letter, (("TargetGroup", group), ("LoadBalancer", load_balancer)))
            for letter, group in zip("ab", groups, strict=False)]


def _traffic_widgets(inputs: ServiceDashboardInputs) -> list[Widget]:
    region, slo = inputs.region, inputs.slo
    if inputs.alb is not None:
        groups = _target_groups(inputs)
        requests = [MetricLine(ALB, "RequestCount", dims, label=f"requests tg-{letter}", id=f"r_{letter}")
                    for letter, dims in groups]
        errors = [MetricLine(ALB, "HTTPCode_Target_5XX_Count", dims, label=f"5xx tg-{letter}", id=f"e_{letter}")
                  for letter, dims in groups]
        rate = ExpressionLine("100 * (FILL(e_a, 0) + FILL(e_b, 0)) / (FILL(r_a, 0) + FILL(r_b, 0))",
                              "5xx share (%)", "error_rate", y_axis="right")
        latency = [MetricLine(ALB, "TargetResponseTime", dims, stat=p, label=f"{p} tg-{letter} (s)")
                   for p in ("p50", "p95", "p99") for letter, dims in groups]
        latency_thresholds = (("p95 SLO (s)", slo.p95_latency_ms / 1000), ("p99 SLO (s)", slo.p99_latency_ms / 1000))
        source = "ALB"
    else:
        inbound = (("DiscoveryName", inputs.service_name), ("ServiceName", inputs.service_name),
                   ("ClusterName", inputs.cluster_name))
        target = (("TargetDiscoveryName", inputs.service_name),)
        requests = [MetricLine(ECS, "RequestCount", inbound, label="requests", id="r_sc")]
        errors = [MetricLine(ECS, "HTTPCode_Target_5XX_Count", target, label="5xx", id="e_sc")]
        rate = ExpressionLine("100 * FILL(e_sc, 0) / r_sc", "5xx share (%)", "error_rate", y_axis="right")
        latency = [MetricLine(ECS, "TargetResponseTime", target, stat=p, label=f"{p} (ms)")
                   for p in ("p50", "p95", "p99")]
        latency_thresholds = (("p95 SLO (ms)", slo.p95_latency_ms), ("p99 SLO (ms)", slo.p99_latency_ms))
        source = "Service Connect"
    # A widget's metric math sees only the ids of its own rows: the share widget carries the request
    # counts again, hidden, rather than pointing at the ids of the requests widget.
    hidden_requests = tuple(replace(line, visible=False) for line in requests)
    return [
        MetricWidget(f"Requests per minute ({source})", tuple(requests), region, width=8),
        MetricWidget(f"5xx responses and share ({source})", (*errors, *hidden_requests, rate), region, width=8,
                     thresholds=(("error-rate SLO (%)", slo.error_rate_percent),)),
        MetricWidget(f"Response time p50 / p95 / p99 ({source})", tuple(latency), region, stat="Average",
                     width=8, thresholds=latency_thresholds),
    ]


def service_dashboard(inputs: ServiceDashboardInputs) -> Dashboard:
    region, slo = inputs.region, inputs.slo
    dims = _service_dims(inputs)
    header = TextWidget(
        f"# {inputs.service_name} ({inputs.name_prefix})\n"
        f"SLOs: p95 <= {slo.p95_latency_ms:g} ms, p99 <= {slo.p99_latency_ms:g} ms, 5xx <= "
        f"{slo.error_rate_percent:g} % (alarms only above {slo.min_requests_per_minute} requests/min). "
        f"Logs: `{inputs.log_group_name}`. Business metrics: namespace `{business_namespace(inputs.service_name)}`. "
        "Runbook: docs/operating.md.")
    widgets: list[Widget] = [header]
    if inputs.alarm_arns:
        widgets.append(AlarmWidget("Alarms", inputs.alarm_arns))
    widgets += _traffic_widgets(inputs)
    widgets += [
        MetricWidget("CPU and memory utilisation (%)", (
            MetricLine(ECS, "CPUUtilization", dims, stat="Average", label="CPU avg"),
            MetricLine(ECS, "CPUUtilization", dims, stat="Maximum", label="CPU max"),
            MetricLine(ECS, "MemoryUtilization", dims, stat="Average", label="memory avg"),
            MetricLine(ECS, "MemoryUtilization", dims, stat="Maximum", label="memory max")),
            region, stat="Average", width=8,
            thresholds=(("CPU alarm", slo.cpu_percent), ("memory alarm", slo.memory_percent))),
        MetricWidget("Tasks: running / desired / pending", (
            MetricLine(CONTAINER_INSIGHTS, "RunningTaskCount", dims[::-1], label="running"),
            MetricLine(CONTAINER_INSIGHTS, "DesiredTaskCount", dims[::-1], label="desired"),
            MetricLine(CONTAINER_INSIGHTS, "PendingTaskCount", dims[::-1], label="pending")),
            region, stat="Average", width=8),
        MetricWidget("Deployments and task sets", (
            MetricLine(CONTAINER_INSIGHTS, "DeploymentCount", dims[::-1], label="deployments"),
            MetricLine(CONTAINER_INSIGHTS, "TaskSetCount", dims[::-1], label="task sets")),
            region, stat="Maximum", width=8),
    ]
    inbound = (("DiscoveryName", inputs.service_name), ("ServiceName", inputs.service_name),
               ("ClusterName", inputs.cluster_name))
    widgets.append(MetricWidget("Service Connect traffic (calls from other services)", (
        MetricLine(ECS, "RequestCount", inbound, label="inbound requests"),
        MetricLine(ECS, "ActiveConnectionCount", (("DiscoveryName", inputs.service_name),), stat="Average",
                   label="active connections", y_axis="right"),
        MetricLine(ECS, "HTTPCode_Target_5XX_Count", (("TargetDiscoveryName", inputs.service_name),),
                   label="5xx seen by callers")),
        region, width=12))
    if inputs.error_log_metric is not None:
        metric = inputs.error_log_metric
        widgets.append(MetricWidget("ERROR log lines", (MetricLine(metric.namespace, metric.name,
                                                                   tuple(metric.dimensions.items()),
                                                                   label="ERROR lines"),),
                                    region, period=300, width=12,
                                    thresholds=(("alarm", float(slo.error_log_lines_per_5_minutes)),)))
    widgets.append(LogWidget("Recent ERROR log lines", (inputs.log_group_name,), RECENT_ERRORS_QUERY, region))
    return Dashboard(tuple(widgets))


@dataclass(frozen=True)
class OverviewService:
    service_name: str
    # The ALB (load balancer suffix, target group suffixes) of a routed service, None for internal ones.
    alb: tuple[str, tuple[str, str]] | None = None


@dataclass(frozen=True)
class OverviewInputs:
    region: str
    name_prefix: str
    cluster_name: str
    services: tuple[OverviewService, ...]
    composite_alarm_arns: tuple[str, ...] = ()
    # Fargate vCPU quota usage (quotas.py) is drawn when the stack watches it.
    fargate_usage: bool = True

    @property
    def dashboard_name(self) -> str:
        return dashboard_name(f"{self.name_prefix}-overview")


def _service_requests(service: OverviewService, cluster: str, index: int) -> list[Line]:
    if service.alb is None:
        return [MetricLine(ECS, "RequestCount", (("DiscoveryName", service.service_name),
                                                  ("ServiceName", service.service_name), ("ClusterName", cluster)),
                           label=service.service_name)]
    load_balancer, groups = service.alb
    ids = [f"r{index}_{letter}" for letter in "ab"]
    lines: list[Line] = [MetricLine(ALB, "RequestCount", (("TargetGroup", group), ("LoadBalancer", load_balancer)),
                                    id=query_id, visible=False) for query_id, group in zip(ids, groups, strict=False)]
    return lines + [ExpressionLine(f"FILL({ids[0]}, 0) + FILL({ids[1]}, 0)", service.service_name, f"r{index}")]


def _service_p95(service: OverviewService, cluster: str) -> list[Line]:
    if service.alb is None:
        return [MetricLine(ECS, "TargetResponseTime", (("TargetDiscoveryName", service.service_name),), stat="p95",
                           label=f"{service.service_name} (ms)")]
    load_balancer, groups = service.alb
    return [MetricLine(ALB, "TargetResponseTime", (("TargetGroup", group), ("LoadBalancer", load_balancer)),
                       stat="p95", label=f"{service.service_name} tg-{letter} (s)", y_axis="right")
            for letter, group in zip("ab", groups, strict=False)]


def overview_dashboard(inputs: OverviewInputs) -> Dashboard:
    region, cluster = inputs.region, inputs.cluster_name
    widgets: list[Widget] = [TextWidget(
        f"# {inputs.name_prefix} overview\nOne row per concern, one line per service. A red service health "
        f"alarm links to its own dashboard `{inputs.name_prefix}-<service>`. Runbook: docs/operating.md.")]
    if inputs.composite_alarm_arns:
        widgets.append(AlarmWidget("Service health", inputs.composite_alarm_arns))
    requests: list[Line] = []
    latency: list[Line] = []
    for index, service in enumerate(inputs.services):
        requests += _service_requests(service, cluster, index)
        latency += _service_p95(service, cluster)
    widgets += [
        MetricWidget("Requests per minute", tuple(requests), region, width=12),
        MetricWidget("p95 response time (ALB in s, right axis; Service Connect in ms)", tuple(latency), region,
                     stat="p95", width=12),
        MetricWidget("CPU utilisation (%)", tuple(
            MetricLine(ECS, "CPUUtilization", (("ClusterName", cluster), ("ServiceName", s.service_name)),
                       label=s.service_name) for s in inputs.services), region, stat="Average", width=12),
        MetricWidget("Running tasks", tuple(
            MetricLine(CONTAINER_INSIGHTS, "RunningTaskCount", (("ServiceName", s.service_name),
                                                                 ("ClusterName", cluster)), label=s.service_name)
            for s in inputs.services), region, stat="Average", width=12),
    ]
    if inputs.fargate_usage:
        usage: list[MetricLine | ExpressionLine] = []
        for index, (label, fargate_class) in enumerate((("on-demand", "Standard/OnDemand"), ("spot", "Standard/Spot"))):
            usage += [MetricLine("AWS/Usage", "ResourceCount", (("Service", "Fargate"), ("Type", "Resource"),
                                                                 ("Resource", "vCPU"), ("Class", fargate_class)),
                                 stat="Maximum", id=f"u{index}", label=f"{label} vCPU in use"),
                      ExpressionLine(f"SERVICE_QUOTA(u{index})", f"{label} vCPU quota", f"q{index}")]
        widgets.append(MetricWidget("Fargate vCPU: usage and quota (account, region)", tuple(usage), region,
                                    stat="Maximum", width=24))
    return Dashboard(tuple(widgets))
