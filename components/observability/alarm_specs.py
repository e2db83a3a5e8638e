"""Typed CloudWatch alarm specs: what an alarm watches, pure and testable, before it becomes a resource.

A spec is turned into `aws.cloudwatch.MetricAlarm` arguments by `metric_alarm_args` and into the
`PutMetricAlarm` request AWS receives by `put_metric_alarm_request` (tests validate that request against
botocore's CloudWatch model, which the mock runtime cannot do). The rules below are AWS's
(API_PutMetricAlarm, API_MetricDataQuery, API_PutCompositeAlarm) and are checked at construction, so a
wrong spec fails before any resource is registered.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pulumi

# PutMetricAlarm / PutCompositeAlarm: AlarmName 1-255 characters, AlarmDescription at most 1024.
ALARM_NAME_MAX = 255
ALARM_DESCRIPTION_MAX = 1024
# A composite rule names its children as ALARM("name"); a quote or parenthesis in a name would break it,
# so every name this program writes keeps to these characters.
ALARM_NAME = re.compile(r"^[A-Za-z0-9._/-]{1,255}$")
# Metric math ids "must start with a lowercase letter" and hold letters, digits and underscores.
QUERY_ID = re.compile(r"^[a-z][A-Za-z0-9_]{0,254}$")
# Statistic enum; extended statistics are percentiles pNN or pNN.N..., given as ExtendedStatistic (alarm
# on one metric) or as MetricStat.Stat (metric math).
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
PERCENTILE = re.compile(r"^p(\d{1,2}(\.\d{1,10})?|100)$")
# API_MetricDataQuery: at most 10 MetricStat and 10 Expression queries, exactly one returning data.
MAX_METRIC_QUERIES = 10
MAX_EXPRESSION_QUERIES = 10
# API_PutMetricAlarm: "the value of EvaluationPeriods multiplied by Period cannot be more than 86,400 seconds"
# for periods below an hour; periods are 10, 20, 30 or a multiple of 60 seconds.
MAX_EVALUATED_SECONDS = 86_400
# API_PutCompositeAlarm: AlarmRule at most 10,240 characters; at most 100 children per rule (the
# CloudWatch quotas page); at most 5 actions per list.
ALARM_RULE_MAX = 10_240
COMPOSITE_CHILDREN_MAX = 100
ACTIONS_MAX = 5

Comparison = Literal["GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold",
                     "LessThanOrEqualToThreshold"]
MissingData = Literal["breaching", "notBreaching", "ignore", "missing"]


def is_statistic(stat: str) -> bool:
    """A Statistic enum member or a percentile extended statistic such as p95 or p99.9."""
    return stat in STATISTICS or (bool(PERCENTILE.fullmatch(stat)) and float(stat[1:]) <= 100)


def alarm_name_problem(name: str) -> str | None:
    if not ALARM_NAME.fullmatch(name):
        return (f"alarm name {name!r} must be 1-{ALARM_NAME_MAX} characters of letters, digits, '.', '_', '/' "
                "and '-' (a composite rule quotes it)")
    return None


@dataclass(frozen=True)
class Metric:
    """One CloudWatch metric with a statistic; dimension values may be Outputs (ARN suffixes, names)."""

    namespace: str
    name: str
    dimensions: Mapping[str, pulumi.Input[str]]
    stat: str
    period_seconds: int = 60

    def __post_init__(self) -> None:
        if not is_statistic(self.stat):
            raise ValueError(f"{self.namespace} {self.name}: statistic {self.stat!r} is neither one of {STATISTICS} "
                             "nor a percentile pNN[.N]")
        if self.period_seconds not in (10, 20, 30) and self.period_seconds % 60:
            raise ValueError(f"{self.name}: period {self.period_seconds} s must be 10, 20, 30 or a multiple of 60")
        if len(self.dimensions) > 30:
            raise ValueError(f"{self.name}: at most 30 dimensions")

    @property
    def is_percentile(self) -> bool:
        return self.stat not in STATISTICS


@dataclass(frozen=True)
class Query:
    """One entry of a metric-math alarm: a metric, or an expression over other ids."""

    id: str
    metric: Metric | None = None
    expression: str | None = None
    label: str | None = None
    return_data: bool = False

    def __post_init__(self) -> None:
        if not QUERY_ID.fullmatch(self.id):
            raise ValueError(f"metric math id {self.id!r} must start with a lowercase letter ({QUERY_ID.pattern})")
        if (self.metric is None) == (self.expression is None):
            raise ValueError(f"query {self.id}: give exactly one of metric or expression")
        if self.expression is not None and not 1 <= len(self.expression) <= 2048:
            raise ValueError(f"query {self.id}: expression must be 1-2048 characters")


@dataclass(frozen=True)
class AlarmSpec:
    """One metric alarm. `key` is its short kind ("p95-latency"), unique within a service.

    Either `metric` (a single metric; a percentile becomes ExtendedStatistic) or `queries` (metric math,
    exactly one returning data). Actions are added by whoever creates the alarm: child alarms of a
    composite have none, the composite pages.
    """

    key: str
    name: str
    description: str
    comparison: Comparison
    threshold: float
    evaluation_periods: int
    datapoints_to_alarm: int
    treat_missing_data: MissingData
    metric: Metric | None = None
    queries: tuple[Query, ...] = ()
    # Shown in the preview and the docs: what the threshold means in people's units.
    threshold_text: str = ""

    def __post_init__(self) -> None:
        problems = []
        name_problem = alarm_name_problem(self.name)
        if name_problem:
            problems.append(name_problem)
        if len(self.description) > ALARM_DESCRIPTION_MAX:
            problems.append(f"description longer than {ALARM_DESCRIPTION_MAX} characters")
        if not 1 <= self.datapoints_to_alarm <= self.evaluation_periods:
            problems.append("datapoints_to_alarm must be within 1..evaluation_periods")
        if (self.metric is None) == (not self.queries):
            problems.append("give exactly one of metric or queries")
        if self.queries:
            metrics = [q for q in self.queries if q.metric is not None]
            expressions = [q for q in self.queries if q.expression is not None]
            if len(metrics) > MAX_METRIC_QUERIES or len(expressions) > MAX_EXPRESSION_QUERIES:
                problems.append(f"at most {MAX_METRIC_QUERIES} metrics and {MAX_EXPRESSION_QUERIES} expressions")
            if sum(q.return_data for q in self.queries) != 1:
                problems.append("exactly one query must return data")
            ids = [q.id for q in self.queries]
            if len(set(ids)) != len(ids):
                problems.append(f"duplicate query ids {ids}")
            periods = {q.metric.period_seconds for q in metrics if q.metric is not None}
        else:
            periods = {self.metric.period_seconds} if self.metric else set()
        for period in periods:
            if period < 3600 and period * self.evaluation_periods > MAX_EVALUATED_SECONDS:
                problems.append(f"period {period} s x {self.evaluation_periods} evaluation periods exceeds one day")
        if problems:
            raise ValueError(f"alarm {self.name}: " + "; ".join(problems))

    @property
    def period_seconds(self) -> int:
        if self.metric is not None:
            return self.metric.period_seconds
        return next(q.metric.period_seconds for q in self.queries if q.metric is not None)


@dataclass(frozen=True)
class CompositeSpec:
    """A composite alarm that is in ALARM when any child is (`ALARM("a") OR ALARM("b") ...`)."""

    name: str
    description: str
    children: tuple[str, ...]

    def __post_init__(self) -> None:
        problems = [p for p in (alarm_name_problem(self.name), *map(alarm_name_problem, self.children)) if p]
        if not self.children:
            problems.append("a composite alarm needs at least one child")
        if len(self.children) > COMPOSITE_CHILDREN_MAX:
            problems.append(f"at most {COMPOSITE_CHILDREN_MAX} children")
        if len(self.rule) > ALARM_RULE_MAX:
            problems.append(f"rule longer than {ALARM_RULE_MAX} characters")
        if problems:
            raise ValueError(f"composite alarm {self.name}: " + "; ".join(problems))

    @property
    def rule(self) -> str:
        return " OR ".join(f'ALARM("{child}")' for child in self.children)


def metric_alarm_args(spec: AlarmSpec, *, alarm_actions: Sequence[pulumi.Input[str]] = (),
                      ok_actions: Sequence[pulumi.Input[str]] = ()) -> dict[str, Any]:
    """Keyword arguments of `aws.cloudwatch.MetricAlarm` (all but the logical name, tags and options)."""
    if len(alarm_actions) > ACTIONS_MAX or len(ok_actions) > ACTIONS_MAX:
        raise ValueError(f"alarm {spec.name}: at most {ACTIONS_MAX} actions per list")
    args: dict[str, Any] = {
        "name": spec.name, "alarm_description": spec.description, "comparison_operator": spec.comparison,
        "threshold": spec.threshold, "evaluation_periods": spec.evaluation_periods,
        "datapoints_to_alarm": spec.datapoints_to_alarm, "treat_missing_data": spec.treat_missing_data,
        "actions_enabled": True, "alarm_actions": list(alarm_actions), "ok_actions": list(ok_actions),
    }
    if spec.metric is not None:
        metric = spec.metric
        args.update(namespace=metric.namespace, metric_name=metric.name, dimensions=dict(metric.dimensions),
                    period=metric.period_seconds)
        if metric.is_percentile:
            args["extended_statistic"] = metric.stat
            # A percentile over few samples is noise; below the minimum CloudWatch evaluates nothing.
            args["evaluate_low_sample_count_percentiles"] = "ignore"
        else:
            args["statistic"] = metric.stat
    else:
        queries = []
        for query in spec.queries:
            entry: dict[str, Any] = {"id": query.id, "return_data": query.return_data}
            if query.label:
                entry["label"] = query.label
            if query.metric is not None:
                metric = query.metric
                entry["metric"] = {"namespace": metric.namespace, "metric_name": metric.name,
                                   "dimensions": dict(metric.dimensions), "period": metric.period_seconds,
                                   "stat": metric.stat}
            else:
                entry["expression"] = query.expression
            queries.append(entry)
        args["metric_queries"] = queries
    return args


def put_metric_alarm_request(spec: AlarmSpec, alarm_actions: Sequence[str] = (),
                             ok_actions: Sequence[str] = ()) -> dict[str, Any]:
    """The PutMetricAlarm request the provider sends for this spec (plain dimension values only)."""
    request: dict[str, Any] = {
        "AlarmName": spec.name, "AlarmDescription": spec.description, "ComparisonOperator": spec.comparison,
        "Threshold": float(spec.threshold), "EvaluationPeriods": spec.evaluation_periods,
        "DatapointsToAlarm": spec.datapoints_to_alarm, "TreatMissingData": spec.treat_missing_data,
        "ActionsEnabled": True, "AlarmActions": list(alarm_actions), "OKActions": list(ok_actions),
    }

    def dimensions(metric: Metric) -> list[dict[str, pulumi.Input[str]]]:
        return [{"Name": key, "Value": value} for key, value in metric.dimensions.items()]

    if spec.metric is not None:
        metric = spec.metric
        request.update(Namespace=metric.namespace, MetricName=metric.name, Dimensions=dimensions(metric),
                       Period=metric.period_seconds)
        if metric.is_percentile:
            request.update(ExtendedStatistic=metric.stat, EvaluateLowSampleCountPercentile="ignore")
        else:
            request["Statistic"] = metric.stat
    else:
        queries = []
        for query in spec.queries:
            entry: dict[str, Any] = {"Id": query.id, "ReturnData": query.return_data}
            if query.label:
                entry["Label"] = query.label
            if query.metric is not None:
                entry["MetricStat"] = {"Metric": {"Namespace": query.metric.namespace,
                                                  "MetricName": query.metric.name,
                                                  "Dimensions": dimensions(query.metric)},
                                       "Period": query.metric.period_seconds, "Stat": query.metric.stat}
            else:
                entry["Expression"] = query.expression
            queries.append(entry)
        request["Metrics"] = queries
    return request


def put_composite_alarm_request(spec: CompositeSpec, actions: Sequence[str]) -> dict[str, Any]:
    """The PutCompositeAlarm request for this spec, notifying `actions` on ALARM and OK."""
    return {"AlarmName": spec.name, "AlarmDescription": spec.description, "AlarmRule": spec.rule,
            "ActionsEnabled": True, "AlarmActions": list(actions), "OKActions": list(actions)}


def comparison_symbol(comparison: Comparison) -> str:
    return {"GreaterThanThreshold": ">", "GreaterThanOrEqualToThreshold": ">=", "LessThanThreshold": "<",
            "LessThanOrEqualToThreshold": "<="}[comparison]


def describe_threshold(spec: AlarmSpec) -> str:
    text = spec.threshold_text or f"{comparison_symbol(spec.comparison)} {spec.threshold:g}"
    return (f"{text} in {spec.datapoints_to_alarm} of {spec.evaluation_periods} x {spec.period_seconds} s")


