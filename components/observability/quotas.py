"""QuotaAlarms: usage of the account's regional quotas the platform exhausts first, against SERVICE_QUOTA().

Fargate vCPU is the one a platform of autoscaled Fargate services runs into first (new tasks fail to
place with "You've reached the limit on the number of vCPUs you can run concurrently"). AWS publishes it
as `AWS/Usage` `ResourceCount` with `Service=Fargate`, `Type=Resource`, `Resource=vCPU` and
`Class=Standard/OnDemand` or `Standard/Spot` ("AWS Fargate usage metrics", ECS developer guide), and the
alarm compares it with the quota through `SERVICE_QUOTA(m)` ("Visualizing your service quotas and setting
alarms", CloudWatch user guide). Quotas without a usage metric are listed in docs/operating.md ("Quotas").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws.cloudwatch as cloudwatch

from components.observability.alarm_specs import AlarmSpec, Metric, Query, metric_alarm_args
from components.observability.alert_routing import AlertDestination

COMPONENT_TYPE = "microservices:observability:QuotaAlarms"
DEFAULT_USAGE_PERCENT = 80.0
FARGATE_CLASSES = {"on-demand": "Standard/OnDemand", "spot": "Standard/Spot"}


def fargate_vcpu_alarm(name_prefix: str, label: str, usage_percent: float) -> AlarmSpec:
    usage = Metric("AWS/Usage", "ResourceCount", {"Service": "Fargate", "Type": "Resource", "Resource": "vCPU",
                                                  "Class": FARGATE_CLASSES[label]}, "Maximum", 300)
    return AlarmSpec(
        key=f"fargate-{label}-vcpu", name=f"{name_prefix}-quota-fargate-{label}-vcpu",
        description=(f"Fargate {label} vCPU in use above {usage_percent:g} % of the account's regional quota: new "
                     "tasks will soon fail to place. Request a quota increase (Service Quotas, ECS/Fargate) or "
                     "lower max_tasks; see docs/operating.md (Quotas)."),
        comparison="GreaterThanThreshold", threshold=usage_percent, evaluation_periods=3, datapoints_to_alarm=3,
        treat_missing_data="notBreaching",
        queries=(Query("usage", usage), Query("usage_percent", expression="100 * usage / SERVICE_QUOTA(usage)",
                                               label=f"Fargate {label} vCPU (% of quota)", return_data=True)),
        threshold_text=f"{label} vCPU > {usage_percent:g} % of quota")


def quota_alarms(name_prefix: str, usage_percent: float = DEFAULT_USAGE_PERCENT,
                 spot: bool = True) -> list[AlarmSpec]:
    labels = ["on-demand", "spot"] if spot else ["on-demand"]
    return [fargate_vcpu_alarm(name_prefix, label, usage_percent) for label in labels]


@dataclass(frozen=True)
class QuotaAlarmsArgs:
    """spot: whether the stack's capacity strategy uses Fargate Spot (no alarm on a quota it never uses)."""

    name_prefix: str
    region: str
    alerts: AlertDestination
    spot: bool = True
    usage_percent: float = DEFAULT_USAGE_PERCENT
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0 < self.usage_percent < 100:
            raise ValueError(f"quota usage threshold {self.usage_percent} % must be within (0, 100)")
        if self.alerts.region != self.region:
            raise ValueError("quota alarms must notify a topic in their own region")


class QuotaAlarms(pulumi.ComponentResource):
    alarm_names: pulumi.Output[list[str]]
    """Names of the quota alarms; each notifies the alert topic on ALARM and OK."""

    def __init__(self, name: str, args: QuotaAlarmsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(COMPONENT_TYPE, name, None, opts)
        self.specs = quota_alarms(args.name_prefix, args.usage_percent, args.spot)
        topic = [args.alerts.topic_arn]
        self.alarms = [cloudwatch.MetricAlarm(
            f"{name}-{spec.key}", **metric_alarm_args(spec, alarm_actions=topic, ok_actions=topic),
            tags=dict(args.tags), opts=pulumi.ResourceOptions(parent=self)) for spec in self.specs]
        self.alarm_names = pulumi.Output.all(*[alarm.name for alarm in self.alarms])
        self.register_outputs({"alarmNames": self.alarm_names})
