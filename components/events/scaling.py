"""Scaling a queue consumer on backlog per task, next to its CPU and memory policies.

Target tracking on metric math: visible messages of the service's queues divided by its running tasks,
the example AWS gives for SQS consumers (Application Auto Scaling user guide,
application-auto-scaling-target-tracking-metric-math.html). The target is the backlog one task can work
off within the latency the service accepts: tasks * target = backlog. `RunningTaskCount` comes from
Container Insights (enabled on the platform's cluster). Metric math allows at most 10 metric queries; a
consumer of more than 9 queues would need a different signal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws.appautoscaling as appautoscaling

from components.events.documents import pulumi_keys

MAX_METRIC_QUERIES = 10


@dataclass(frozen=True)
class BacklogScaling:
    """queue_names: the queues the service consumes. backlog_per_task: messages one task may have waiting."""

    cluster_name: str
    service_name: str
    queue_names: Sequence[str]
    backlog_per_task: float = 100.0
    scale_in_cooldown_seconds: int = 300
    scale_out_cooldown_seconds: int = 60

    def __post_init__(self) -> None:
        if not self.queue_names:
            raise ValueError("BacklogScaling needs at least one queue")
        if len(self.queue_names) + 1 > MAX_METRIC_QUERIES:
            raise ValueError(f"{len(self.queue_names)} queues and the task count exceed the "
                             f"{MAX_METRIC_QUERIES} metric queries target tracking allows")
        if self.backlog_per_task <= 0:
            raise ValueError("backlog_per_task must be positive")

    def configuration(self) -> dict[str, Any]:
        """PutScalingPolicy TargetTrackingScalingPolicyConfiguration (API shape)."""
        queues: list[dict[str, Any]] = [{"Id": f"visible{i}", "Label": f"Visible messages in {name}", "ReturnData": False,
                   "MetricStat": {"Metric": {"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
                                             "Dimensions": [{"Name": "QueueName", "Value": name}]},
                                  "Stat": "Sum"}}
                  for i, name in enumerate(self.queue_names)]
        tasks = {"Id": "tasks", "Label": "Running tasks", "ReturnData": False,
                 "MetricStat": {"Metric": {"Namespace": "ECS/ContainerInsights", "MetricName": "RunningTaskCount",
                                           "Dimensions": [{"Name": "ClusterName", "Value": self.cluster_name},
                                                          {"Name": "ServiceName", "Value": self.service_name}]},
                                "Stat": "Average"}}
        backlog = "(" + " + ".join(q["Id"] for q in queues) + ") / tasks"
        return {
            "TargetValue": self.backlog_per_task,
            "CustomizedMetricSpecification": {"Metrics": [*queues, tasks, {
                "Id": "backlog_per_task", "Expression": backlog, "Label": "Backlog per task", "ReturnData": True}]},
            "ScaleInCooldown": self.scale_in_cooldown_seconds,
            "ScaleOutCooldown": self.scale_out_cooldown_seconds,
        }


def backlog_scaling_policy(name: str, queue_names: Sequence[str], cluster_name: pulumi.Input[str],
                           service_name: pulumi.Input[str], target: appautoscaling.Target,
                           backlog_per_task: float = 100.0,
                           opts: pulumi.ResourceOptions | None = None) -> appautoscaling.Policy:
    """The target tracking policy on `target` (the service's ECS DesiredCount scalable target)."""
    configuration = pulumi.Output.all(cluster_name, service_name).apply(lambda names: pulumi_keys(BacklogScaling(
        cluster_name=names[0], service_name=names[1], queue_names=tuple(queue_names),
        backlog_per_task=backlog_per_task).configuration()))
    return appautoscaling.Policy(
        name, policy_type="TargetTrackingScaling", resource_id=target.resource_id,
        scalable_dimension=target.scalable_dimension, service_namespace=target.service_namespace,
        target_tracking_scaling_policy_configuration=configuration, opts=opts)
