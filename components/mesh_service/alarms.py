"""Deployment-rollback alarms: 5xx share and p95 latency, per target group or from Service Connect.

Which metrics and dimensions, and why per target group: docs/mesh-service.md ("Alarms").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws.cloudwatch as cloudwatch
import pulumi_aws.lb as lb

from components.mesh_service.args import MeshServiceArgs

ERROR_RATE_EXPRESSION = "IF(FILL(requests, 0) > 0, 100 * FILL(errors, 0) / FILL(requests, 0), 0)"


def error_rate_queries(namespace: str, errors: tuple[str, dict[str, Any]], requests: tuple[str, dict[str, Any]],
                       period: int) -> list[dict[str, Any]]:
    def metric(query_id: str, metric_name: str, dimensions: dict[str, Any]) -> dict[str, Any]:
        return {"id": query_id, "return_data": False, "metric": {
            "namespace": namespace, "metric_name": metric_name, "dimensions": dimensions,
            "period": period, "stat": "Sum"}}

    return [
        metric("errors", *errors),
        metric("requests", *requests),
        {"id": "error_rate", "label": "5xx responses per request (%)", "return_data": True,
         "expression": ERROR_RATE_EXPRESSION},
    ]


def create_rollback_alarms(name: str, args: MeshServiceArgs, *, target_groups: Sequence[lb.TargetGroup] | None,
                           tags: Mapping[str, str],
                           child: Callable[..., pulumi.ResourceOptions]) -> list[cloudwatch.MetricAlarm]:
    platform, service = args.platform, args.service
    thresholds = args.operations.alarm_thresholds
    base = f"{platform.environment}-{service.name}"
    alarms: list[cloudwatch.MetricAlarm] = []

    def alarm(logical: str, alarm_name: str, description: str, threshold: float, **metric: Any) -> None:
        alarms.append(cloudwatch.MetricAlarm(
            f"{name}-{logical}", name=alarm_name, alarm_description=description,
            comparison_operator="GreaterThanThreshold", threshold=threshold,
            evaluation_periods=thresholds.evaluation_periods, datapoints_to_alarm=thresholds.datapoints_to_alarm,
            # No traffic is not a failure: an idle target group or a quiet night must not roll back a deploy.
            treat_missing_data="notBreaching", tags=dict(tags), opts=child(), **metric))

    def pair(suffix: str, scope: str, namespace: str, errors: tuple[str, dict[str, Any]], requests: tuple[str, dict[str, Any]],
             latency_dimensions: dict[str, Any], latency_threshold: float) -> None:
        alarm(f"5xx-rate{suffix}", f"{base}-5xx-rate{suffix}",
              f"{service.name}: target 5xx share of requests ({scope})", thresholds.error_rate_percent,
              metric_queries=error_rate_queries(namespace, errors, requests, thresholds.period_seconds))
        alarm(f"p95-latency{suffix}", f"{base}-p95-latency{suffix}",
              f"{service.name}: p95 target response time ({scope})", latency_threshold,
              namespace=namespace, metric_name="TargetResponseTime", dimensions=latency_dimensions,
              extended_statistic="p95", period=thresholds.period_seconds)

    if target_groups:
        # One pair per target group: after a blue/green swap the other group is production.
        for letter, target_group in zip("ab", target_groups, strict=False):
            dimensions = {"TargetGroup": target_group.arn_suffix, "LoadBalancer": platform.load_balancer.arn_suffix}
            # ALB TargetResponseTime is in seconds (ELB "CloudWatch metrics for your Application Load Balancer").
            pair(f"-tg-{letter}", f"target group {letter}", "AWS/ApplicationELB",
                 ("HTTPCode_Target_5XX_Count", dimensions), ("RequestCount", dimensions), dimensions,
                 thresholds.p95_latency_ms / 1000.0)
    else:
        target = {"TargetDiscoveryName": service.name}
        inbound = {"ClusterName": platform.cluster.name, "ServiceName": service.name, "DiscoveryName": service.name}
        # Service Connect TargetResponseTime is in milliseconds.
        pair("", "Service Connect", "AWS/ECS", ("HTTPCode_Target_5XX_Count", target), ("RequestCount", inbound),
             target, thresholds.p95_latency_ms)
    return alarms
