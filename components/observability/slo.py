"""SLO alarms per service as pure builders: latency (p95, p99), error rate, unhealthy hosts, running tasks
below desired, CPU and memory saturation, error log lines.

Metric sources (namespaces, names and dimensions), checked against AWS's documentation:
* Routed services, `AWS/ApplicationELB` ("CloudWatch metrics for your Application Load Balancer"):
  `RequestCount`, `HTTPCode_Target_5XX_Count` (published only when non-zero, hence FILL(..., 0)),
  `TargetResponseTime` (seconds) and `UnHealthyHostCount`, each by `TargetGroup, LoadBalancer`. Both
  groups of the blue/green pair are read: after a swap the other group carries production.
* Internal services, Service Connect in `AWS/ECS` (ECS developer guide, available-metrics.html, Service
  Connect table; see the MeshService docstring for the reading): `RequestCount` by `DiscoveryName,
  ServiceName, ClusterName` (the service's own inbound proxies), `HTTPCode_Target_5XX_Count` and
  `TargetResponseTime` (milliseconds) by `TargetDiscoveryName` (measured by the callers' proxies).
* Tasks, `ECS/ContainerInsights` (Container-Insights-metrics-ECS.html): `RunningTaskCount`,
  `DesiredTaskCount` by `ServiceName, ClusterName`.
* Saturation, `AWS/ECS` (available-metrics.html): `CPUUtilization`, `MemoryUtilization` by
  `ClusterName, ServiceName`, in percent of the task size.
* Error log lines: the metric filter of `logs.py` (`matbakh/platform/<environment>`, by `service`).

Why each threshold is what it is: docs/operating.md ("SLO alarms").
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.observability.alarm_specs import COMPOSITE_CHILDREN_MAX, AlarmSpec, CompositeSpec, Metric, Query
from components.observability.logs import ErrorLineMetric

ALB = "AWS/ApplicationELB"
ECS = "AWS/ECS"
CONTAINER_INSIGHTS = "ECS/ContainerInsights"
# The seeds' SLOs; p99 is ours (docs/operating.md): 2.5 x the p95 target keeps the tail within one
# client retry budget while a single slow dependency call (~300 ms) does not page.
DEFAULT_P95_MS = 200.0
DEFAULT_P99_MS = 500.0
DEFAULT_ERROR_RATE_PERCENT = 1.0
# Below this many requests per minute a single failing request is > 1 %: the minimum-traffic guard.
DEFAULT_MIN_REQUESTS_PER_MINUTE = 20
# Autoscaling aims at 65 % CPU / 75 % memory; sustained use above these means it can no longer add tasks.
DEFAULT_CPU_PERCENT = 85.0
DEFAULT_MEMORY_PERCENT = 85.0
DEFAULT_ERROR_LOG_LINES_PER_5_MINUTES = 10


@dataclass(frozen=True)
class SloTargets:
    """A service's objectives; the values are the stack's (`slo` settings, overridable per stack)."""

    p95_latency_ms: float = DEFAULT_P95_MS
    p99_latency_ms: float = DEFAULT_P99_MS
    error_rate_percent: float = DEFAULT_ERROR_RATE_PERCENT
    min_requests_per_minute: int = DEFAULT_MIN_REQUESTS_PER_MINUTE
    cpu_percent: float = DEFAULT_CPU_PERCENT
    memory_percent: float = DEFAULT_MEMORY_PERCENT
    error_log_lines_per_5_minutes: int = DEFAULT_ERROR_LOG_LINES_PER_5_MINUTES

    def __post_init__(self) -> None:
        problems = []
        if not 0 < self.p95_latency_ms <= self.p99_latency_ms:
            problems.append(f"latency targets need 0 < p95 ({self.p95_latency_ms}) <= p99 ({self.p99_latency_ms}) ms")
        if not 0 < self.error_rate_percent <= 100:
            problems.append(f"error rate {self.error_rate_percent} % must be within (0, 100]")
        if self.min_requests_per_minute < 1:
            problems.append("the minimum-traffic guard needs at least 1 request per minute")
        for label, value in (("cpu", self.cpu_percent), ("memory", self.memory_percent)):
            if not 0 < value <= 100:
                problems.append(f"{label} saturation {value} % must be within (0, 100]")
        if self.error_log_lines_per_5_minutes < 1:
            problems.append("error log lines threshold must be at least 1")
        if problems:
            raise ValueError("SLO targets: " + "; ".join(problems))


@dataclass(frozen=True)
class AlbSource:
    """A routed service's load balancer and its blue/green target groups (`arn_suffix` of each)."""

    load_balancer: pulumi.Input[str]
    target_groups: tuple[pulumi.Input[str], pulumi.Input[str]]


@dataclass(frozen=True)
class ServiceAlarmInputs:
    """Everything the builders need about one service; `alb` is None for internal services."""

    name_prefix: str  # e.g. "prod" or "prod-euw1": alarm names are regional, the prefix says which stack
    service_name: str
    cluster_name: pulumi.Input[str]
    slo: SloTargets
    alb: AlbSource | None = None
    # The error-log-lines metric (logs.py); None: no log alarm.
    error_log_metric: ErrorLineMetric | None = None
    period_seconds: int = 60
    # Whether the cluster publishes ECS/ContainerInsights metrics (`containerInsights` not `disabled`);
    # without them the running-tasks alarm would read a metric that never reports.
    container_insights: bool = True

    def name(self, key: str) -> str:
        return f"{self.name_prefix}-{self.service_name}-slo-{key}"


def _guarded(value: str, requests: str, minimum: int) -> str:
    """`value` while the service saw at least `minimum` requests in the period, else 0 (never breaching)."""
    return f"IF({requests} >= {minimum}, {value}, 0)"


def _alb_metric(source: AlbSource, group: int, name: str, stat: str, period: int) -> Metric:
    return Metric(ALB, name, {"TargetGroup": source.target_groups[group], "LoadBalancer": source.load_balancer},
                  stat, period)


def _requests_queries(inputs: ServiceAlarmInputs) -> list[Query]:
    """`requests`: the service's requests per period (both target groups, or Service Connect inbound)."""
    period = inputs.period_seconds
    if inputs.alb is not None:
        return [Query("r_a", _alb_metric(inputs.alb, 0, "RequestCount", "Sum", period)),
                Query("r_b", _alb_metric(inputs.alb, 1, "RequestCount", "Sum", period)),
                Query("requests", expression="FILL(r_a, 0) + FILL(r_b, 0)", label="Requests")]
    inbound = {"DiscoveryName": inputs.service_name, "ServiceName": inputs.service_name,
               "ClusterName": inputs.cluster_name}
    return [Query("r_sc", Metric(ECS, "RequestCount", inbound, "Sum", period)),
            Query("requests", expression="FILL(r_sc, 0)", label="Requests")]


def latency_alarm(inputs: ServiceAlarmInputs, percentile: str, threshold_ms: float) -> AlarmSpec:
    """pNN response time in milliseconds, guarded by minimum traffic.

    Routed: the worse of the two target groups (MAX), so a canary's slow group is seen at full weight.
    ALB TargetResponseTime is in seconds, hence `* 1000`; Service Connect's is in milliseconds.
    """
    period = inputs.period_seconds
    if inputs.alb is not None:
        queries = [Query("l_a", _alb_metric(inputs.alb, 0, "TargetResponseTime", percentile, period)),
                   Query("l_b", _alb_metric(inputs.alb, 1, "TargetResponseTime", percentile, period))]
        latency = "1000 * MAX([FILL(l_a, 0), FILL(l_b, 0)])"
        scope = "ALB target groups a/b"
    else:
        queries = [Query("l_sc", Metric(ECS, "TargetResponseTime", {"TargetDiscoveryName": inputs.service_name},
                                        percentile, period))]
        latency = "FILL(l_sc, 0)"
        scope = "Service Connect callers"
    queries += _requests_queries(inputs)
    queries.append(Query("latency_ms", expression=_guarded(latency, "requests", inputs.slo.min_requests_per_minute),
                         label=f"{percentile} response time (ms)", return_data=True))
    return AlarmSpec(
        key=f"{percentile}-latency", name=inputs.name(f"{percentile}-latency"),
        description=(f"{inputs.service_name}: {percentile} response time above {threshold_ms:g} ms ({scope}; only "
                     f"with >= {inputs.slo.min_requests_per_minute} requests/min). Look first at the service "
                     "dashboard's latency and dependency widgets."),
        comparison="GreaterThanThreshold", threshold=threshold_ms, evaluation_periods=5, datapoints_to_alarm=3,
        treat_missing_data="notBreaching", queries=tuple(queries),
        threshold_text=f"{percentile} > {threshold_ms:g} ms")


def error_rate_alarm(inputs: ServiceAlarmInputs) -> AlarmSpec:
    """100 x 5xx / requests over both target groups (or Service Connect), 0 below the traffic guard."""
    period = inputs.period_seconds
    if inputs.alb is not None:
        queries = [Query("e_a", _alb_metric(inputs.alb, 0, "HTTPCode_Target_5XX_Count", "Sum", period)),
                   Query("e_b", _alb_metric(inputs.alb, 1, "HTTPCode_Target_5XX_Count", "Sum", period)),
                   Query("errors", expression="FILL(e_a, 0) + FILL(e_b, 0)", label="5xx responses")]
    else:
        queries = [Query("e_sc", Metric(ECS, "HTTPCode_Target_5XX_Count", {"TargetDiscoveryName": inputs.service_name},
                                        "Sum", period)),
                   Query("errors", expression="FILL(e_sc, 0)", label="5xx responses")]
    queries += _requests_queries(inputs)
    slo = inputs.slo
    queries.append(Query("error_rate", expression=_guarded("100 * errors / requests", "requests",
                                                           slo.min_requests_per_minute),
                         label="5xx share of requests (%)", return_data=True))
    return AlarmSpec(
        key="error-rate", name=inputs.name("error-rate"),
        description=(f"{inputs.service_name}: more than {slo.error_rate_percent:g} % of requests answered 5xx "
                     f"(only with >= {slo.min_requests_per_minute} requests/min). Look first at the dashboard's "
                     "recent error log lines and their trace ids."),
        comparison="GreaterThanThreshold", threshold=slo.error_rate_percent, evaluation_periods=5,
        datapoints_to_alarm=3, treat_missing_data="notBreaching", queries=tuple(queries),
        threshold_text=f"5xx > {slo.error_rate_percent:g} %")


def unhealthy_hosts_alarm(inputs: ServiceAlarmInputs) -> AlarmSpec:
    """At least one target unhealthy for a whole minute (Minimum, as AWS suggests), five minutes running."""
    assert inputs.alb is not None
    period = inputs.period_seconds
    queries = (Query("u_a", _alb_metric(inputs.alb, 0, "UnHealthyHostCount", "Minimum", period)),
               Query("u_b", _alb_metric(inputs.alb, 1, "UnHealthyHostCount", "Minimum", period)),
               Query("unhealthy", expression="MAX([FILL(u_a, 0), FILL(u_b, 0)])", label="Unhealthy targets",
                     return_data=True))
    return AlarmSpec(
        key="unhealthy-hosts", name=inputs.name("unhealthy-hosts"),
        description=(f"{inputs.service_name}: ALB targets failing health checks for 5 minutes. Look first at the "
                     "task's container health and the app's log lines around the failures."),
        comparison="GreaterThanOrEqualToThreshold", threshold=1, evaluation_periods=5, datapoints_to_alarm=5,
        treat_missing_data="notBreaching", queries=queries, threshold_text="unhealthy targets >= 1")


def running_tasks_alarm(inputs: ServiceAlarmInputs) -> AlarmSpec:
    """Fewer running tasks than desired for 10 minutes: tasks crash, cannot be placed, or capacity is gone.

    Deployments and scale-outs run below desired for a few minutes, hence the 10 consecutive minutes.
    Built only where the cluster has Container Insights (service_alarms): there both metrics report every
    minute while the service exists, so missing data breaches, because silence means the metrics or the
    service disappeared.
    """
    dims = {"ServiceName": inputs.service_name, "ClusterName": inputs.cluster_name}
    period = inputs.period_seconds
    queries = (Query("running", Metric(CONTAINER_INSIGHTS, "RunningTaskCount", dims, "Average", period)),
               Query("desired", Metric(CONTAINER_INSIGHTS, "DesiredTaskCount", dims, "Average", period)),
               Query("missing_tasks", expression="desired - running", label="Desired minus running tasks",
                     return_data=True))
    return AlarmSpec(
        key="tasks-below-desired", name=inputs.name("tasks-below-desired"),
        description=(f"{inputs.service_name}: fewer running tasks than desired for 10 minutes. Look first at the "
                     "ECS service events (placement, image pull, health check failures) and stopped tasks."),
        comparison="GreaterThanThreshold", threshold=0, evaluation_periods=10, datapoints_to_alarm=10,
        treat_missing_data="breaching", queries=queries, threshold_text="running < desired")


def saturation_alarm(inputs: ServiceAlarmInputs, resource: str) -> AlarmSpec:
    """Average CPU or memory utilisation of the service above the target for 15 minutes (USE: saturation)."""
    metric_name, threshold = {"cpu": ("CPUUtilization", inputs.slo.cpu_percent),
                              "memory": ("MemoryUtilization", inputs.slo.memory_percent)}[resource]
    return AlarmSpec(
        key=f"{resource}-saturation", name=inputs.name(f"{resource}-saturation"),
        description=(f"{inputs.service_name}: average {resource} above {threshold:g} % for 15 minutes; autoscaling "
                     "is at its maximum or cannot keep up. Look first at running tasks vs the service's max_tasks."),
        comparison="GreaterThanThreshold", threshold=threshold, evaluation_periods=3, datapoints_to_alarm=3,
        treat_missing_data="notBreaching",
        metric=Metric(ECS, metric_name, {"ClusterName": inputs.cluster_name, "ServiceName": inputs.service_name},
                      "Average", 300),
        threshold_text=f"{resource} > {threshold:g} %")


def error_log_alarm(inputs: ServiceAlarmInputs) -> AlarmSpec:
    """Error log lines (level ERROR) per 5 minutes from the service's metric filter."""
    assert inputs.error_log_metric is not None
    metric = inputs.error_log_metric
    lines = inputs.slo.error_log_lines_per_5_minutes
    return AlarmSpec(
        key="error-logs", name=inputs.name("error-logs"),
        description=(f"{inputs.service_name}: at least {lines} ERROR log lines in 5 minutes. Look first at the "
                     "saved query 'errors by trace id'."),
        comparison="GreaterThanOrEqualToThreshold", threshold=lines, evaluation_periods=1, datapoints_to_alarm=1,
        treat_missing_data="notBreaching", metric=Metric(metric.namespace, metric.name, metric.dimensions, "Sum", 300),
        threshold_text=f"ERROR lines >= {lines} per 5 min")


def service_alarms(inputs: ServiceAlarmInputs) -> list[AlarmSpec]:
    """Every SLO alarm of one service, in the order the preview lists them."""
    slo = inputs.slo
    specs = [latency_alarm(inputs, "p95", slo.p95_latency_ms), latency_alarm(inputs, "p99", slo.p99_latency_ms),
             error_rate_alarm(inputs)]
    if inputs.alb is not None:
        specs.append(unhealthy_hosts_alarm(inputs))
    if inputs.container_insights:
        specs.append(running_tasks_alarm(inputs))
    specs += [saturation_alarm(inputs, "cpu"), saturation_alarm(inputs, "memory")]
    if inputs.error_log_metric is not None:
        specs.append(error_log_alarm(inputs))
    return specs


def service_composite(inputs: ServiceAlarmInputs, children: list[AlarmSpec]) -> CompositeSpec:
    return CompositeSpec(
        name=f"{inputs.name_prefix}-{inputs.service_name}-health",
        description=(f"{inputs.service_name} breaches an SLO or is short of capacity: the state reason names the "
                     f"alarm. Dashboard: {inputs.name_prefix}-{inputs.service_name}."),
        children=tuple(spec.name for spec in children))


def stack_composite(name_prefix: str, service_composites: list[str]) -> CompositeSpec:
    return CompositeSpec(
        name=f"{name_prefix}-platform-health",
        description=(f"At least one service of {name_prefix} is unhealthy: the state reason names the service's "
                     f"health alarm. Dashboard: {name_prefix}-overview."),
        children=tuple(service_composites))


def service_groups(name_prefix: str, service_composites: list[str]) -> list[CompositeSpec]:
    """Above COMPOSITE_CHILDREN_MAX services the stack alarm cannot name every service's health alarm
    (PutCompositeAlarm: at most 100 children per rule), so the services are grouped into composites of at
    most that many, in order, and the stack alarm names the groups. None at or below the limit, so the
    stack alarm of a smaller stack names its services directly."""
    if len(service_composites) <= COMPOSITE_CHILDREN_MAX:
        return []
    chunks = [service_composites[i:i + COMPOSITE_CHILDREN_MAX]
              for i in range(0, len(service_composites), COMPOSITE_CHILDREN_MAX)]
    return [CompositeSpec(
        name=f"{name_prefix}-platform-health-{number}",
        description=(f"At least one service of group {number} of {name_prefix} is unhealthy (services "
                     f"{', '.join(chunk[:1])} to {chunk[-1]}); it feeds {name_prefix}-platform-health, which pages."),
        children=tuple(chunk)) for number, chunk in enumerate(chunks, 1)]
