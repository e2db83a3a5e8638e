"""Alarm specifications for data and events, to be routed to the alert topic once it exists.

Pure: each function returns `AlarmSpec`s (a PutMetricAlarm request in API shape); `metric_alarm_args`
turns one into aws.cloudwatch.MetricAlarm arguments with the topic as action. Metric names and dimensions:
SQS (sqs-available-cloudwatch-metrics.html), DynamoDB (metrics-dimensions.html), Aurora
(Aurora.AuroraMonitoring.Metrics.html; ACUUtilization is Serverless v2's).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pulumi

ALARM_NAME_MAX = 255


@dataclass(frozen=True)
class AlarmSpec:
    name: str
    description: str
    namespace: str
    metric_name: str
    dimensions: dict[str, str]
    statistic: str
    threshold: float
    comparison: str = "GreaterThanThreshold"
    period_seconds: int = 300
    evaluation_periods: int = 1
    treat_missing_data: str = "notBreaching"

    def __post_init__(self) -> None:
        if not 1 <= len(self.name) <= ALARM_NAME_MAX:
            raise ValueError(f"alarm name {self.name!r} must be 1-{ALARM_NAME_MAX} characters")

    def request(self, actions: Sequence[str] = ()) -> dict[str, Any]:
        """PutMetricAlarm request (what tests validate with botocore)."""
        return {"AlarmName": self.name, "AlarmDescription": self.description, "Namespace": self.namespace,
                "MetricName": self.metric_name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in self.dimensions.items()],
                "Statistic": self.statistic, "Period": self.period_seconds,
                "EvaluationPeriods": self.evaluation_periods, "Threshold": self.threshold,
                "ComparisonOperator": self.comparison, "TreatMissingData": self.treat_missing_data,
                "AlarmActions": list(actions), "OKActions": list(actions)}


def dead_letter_alarm(dead_letter_queue_name: str) -> AlarmSpec:
    """Anything in a dead-letter queue needs a human."""
    return AlarmSpec(f"{dead_letter_queue_name}-not-empty", f"Messages are waiting in {dead_letter_queue_name}: "
                     "inspect and redrive (docs/events.md)", "AWS/SQS", "ApproximateNumberOfMessagesVisible",
                     {"QueueName": dead_letter_queue_name}, "Maximum", 0)


def queue_alarms(queue_name: str, dead_letter_queue_name: str, oldest_message_seconds: int = 900) -> list[AlarmSpec]:
    """The DLQ alarm, and a growing age of the oldest message: consumers fall behind."""
    return [
        dead_letter_alarm(dead_letter_queue_name),
        AlarmSpec(f"{queue_name}-oldest-message-age", f"The oldest message in {queue_name} waits over "
                  f"{oldest_message_seconds}s", "AWS/SQS", "ApproximateAgeOfOldestMessage",
                  {"QueueName": queue_name}, "Maximum", oldest_message_seconds, evaluation_periods=3),
    ]


def table_alarms(table_name: str) -> list[AlarmSpec]:
    """On-demand tables still throttle (partition limits, sudden doubling of traffic)."""
    return [AlarmSpec(f"{table_name}-{kind.lower()}-throttles", f"{table_name} throttles {kind.lower()}s",
                      "AWS/DynamoDB", f"{kind}ThrottleEvents", {"TableName": table_name}, "Sum", 0)
            for kind in ("Read", "Write")]


def database_alarms(cluster_identifier: str, max_connections: int = 400) -> list[AlarmSpec]:
    """CPU and ACU utilisation near the configured maximum capacity, and connections near the limit the
    maximum ACU allows. A paused cluster reports 0, which never breaches."""
    dimensions = {"DBClusterIdentifier": cluster_identifier}
    return [
        AlarmSpec(f"{cluster_identifier}-cpu", f"{cluster_identifier} CPU above 80 %", "AWS/RDS", "CPUUtilization",
                  dimensions, "Average", 80, evaluation_periods=3),
        AlarmSpec(f"{cluster_identifier}-acu", f"{cluster_identifier} uses over 90 % of its maximum ACUs; raise "
                  "data.maxCapacity", "AWS/RDS", "ACUUtilization", dimensions, "Average", 90, evaluation_periods=3),
        AlarmSpec(f"{cluster_identifier}-connections", f"{cluster_identifier} has over {max_connections} connections",
                  "AWS/RDS", "DatabaseConnections", dimensions, "Maximum", max_connections, evaluation_periods=2),
    ]


def metric_alarm_args(spec: AlarmSpec, topic_arn: pulumi.Input[str] | None = None) -> dict[str, Any]:
    """aws.cloudwatch.MetricAlarm keyword arguments for `spec`."""
    actions = [topic_arn] if topic_arn else []
    return {re.sub(r"(?<!^)(?=[A-Z])", "_", k).lower(): v for k, v in {
        "Name": spec.name, "AlarmDescription": spec.description, "Namespace": spec.namespace,
        "MetricName": spec.metric_name, "Dimensions": dict(spec.dimensions), "Statistic": spec.statistic,
        "Period": spec.period_seconds, "EvaluationPeriods": spec.evaluation_periods, "Threshold": spec.threshold,
        "ComparisonOperator": spec.comparison, "TreatMissingData": spec.treat_missing_data,
        "AlarmActions": actions, "OkActions": actions}.items()}


def global_database_alarms(cluster_identifier: str, rpo_seconds: int) -> list[AlarmSpec]:
    """The lag of a global database's secondary cluster (published in its region, for the cluster that is
    secondary at the time; a primary reports nothing, which never breaches). Storage lag at half the RPO,
    RPO lag at 80 % of it: beyond rds.global_db_rpo Aurora PostgreSQL holds commits on the writer
    (docs/failover.md, "RPO")."""
    dimensions = {"DBClusterIdentifier": cluster_identifier}
    milliseconds = rpo_seconds * 1000
    return [
        AlarmSpec(f"{cluster_identifier}-global-replication-lag",
                  f"{cluster_identifier} replicates over {rpo_seconds // 2} s behind the writer region",
                  "AWS/RDS", "AuroraGlobalDBReplicationLag", dimensions, "Maximum", milliseconds // 2,
                  period_seconds=60, evaluation_periods=3),
        AlarmSpec(f"{cluster_identifier}-global-rpo-lag",
                  f"{cluster_identifier}'s RPO lag nears the managed RPO of {rpo_seconds} s: writes may soon wait",
                  "AWS/RDS", "AuroraGlobalDBRPOLag", dimensions, "Maximum", milliseconds * 4 // 5,
                  period_seconds=60, evaluation_periods=3),
    ]


def table_replication_alarm(table_name: str, receiving_region: str, rpo_seconds: int) -> AlarmSpec:
    """A global table's replication to the other region falls behind (published in the writing region)."""
    return AlarmSpec(f"{table_name}-replication-to-{receiving_region}",
                     f"{table_name} replicates to {receiving_region} over {rpo_seconds // 2} s late",
                     "AWS/DynamoDB", "ReplicationLatency", {"TableName": table_name, "ReceivingRegion": receiving_region},
                     "Average", rpo_seconds * 1000 // 2, period_seconds=60, evaluation_periods=3)
