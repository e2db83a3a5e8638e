"""FailoverAlarms: a region losing its health check pages people, in both stacks.

Route 53 publishes health-check metrics only in us-east-1 (`AWS/Route53`, `HealthCheckStatus` 1/0 by
`HealthCheckId`, statistic Minimum; Route 53 developer guide, "Monitoring health checks using
CloudWatch"), and an alarm can only read metrics of its own region and notify a topic of its own region.
So each stack places exactly three things in us-east-1, through pulumi-aws 7's per-resource `region`
argument (no second provider): a small KMS key, an encrypted topic with the stack's subscribers
(AlertRouting with its own key) and the alarm. Nothing in us-east-1 is shared between stacks, so the
standby still depends on nothing in eu-central-1: if the primary region is gone, the standby's own
alarm and topic keep working. Design notes: docs/operating.md ("Failover visibility").

* The primary alarms on the health check DnsFailover already attaches to its PRIMARY record: when it
  goes red, Route 53 is answering with the standby.
* The standby creates a health check of its own ALB (not attached to any record) and alarms on it: a
  standby that would fail the failover is found before it is needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws.cloudwatch as cloudwatch
import pulumi_aws.route53 as route53

from components.core.types import Role
from components.failover.dns_failover import (
    HEALTH_CHECKER_REGIONS,
    HEALTH_CHECKER_REGIONS_MIN,
    health_check_timing_problems,
)
from components.observability.alarm_specs import AlarmSpec, Metric, metric_alarm_args
from components.observability.alert_routing import AlertDestination

COMPONENT_TYPE = "microservices:observability:FailoverAlarms"
ROUTE53_METRICS_REGION = "us-east-1"


def health_check_alarm(name_prefix: str, role: str, health_check_id: pulumi.Input[str]) -> AlarmSpec:
    meaning = ("the primary does not serve writes (its readiness fails); if it persists, run the Region switch "
               "plan (docs/runbooks/region-failover.md)" if role == "primary"
               else "the standby would not take traffic if the Region switch plan activated it")
    return AlarmSpec(
        key="health-check", name=f"{name_prefix}-{role}-endpoint-unhealthy",
        description=(f"The {role} region's public endpoint fails its Route 53 health check: {meaning}. Look first "
                     "at the overview dashboard of that region and at the ALB's target health."),
        comparison="LessThanThreshold", threshold=1, evaluation_periods=2, datapoints_to_alarm=2,
        # A health check that reports nothing has been deleted or disabled: that is not healthy either.
        treat_missing_data="breaching",
        metric=Metric("AWS/Route53", "HealthCheckStatus", {"HealthCheckId": health_check_id}, "Minimum", 60),
        threshold_text="health check status < 1 (unhealthy)")


@dataclass(frozen=True)
class OwnHealthCheck:
    """The standby's check of its own ALB (the primary's check belongs to DnsFailover)."""

    alb_dns_name: pulumi.Input[str]
    path: str
    request_interval_seconds: int
    failure_threshold: int
    checker_regions: tuple[str, ...]
    https: bool = True

    def __post_init__(self) -> None:
        problems = health_check_timing_problems(self.request_interval_seconds, self.failure_threshold)
        if not self.path.startswith("/"):
            problems.append(f"health check path {self.path!r} must start with '/'")
        unknown = [r for r in self.checker_regions if r not in HEALTH_CHECKER_REGIONS]
        if unknown or len(set(self.checker_regions)) < HEALTH_CHECKER_REGIONS_MIN:
            problems.append(f"checker regions need >= {HEALTH_CHECKER_REGIONS_MIN} of {HEALTH_CHECKER_REGIONS}")
        if problems:
            raise ValueError("OwnHealthCheck: " + "; ".join(problems))


@dataclass(frozen=True)
class FailoverAlarmsArgs:
    """alerts: the stack's us-east-1 topic (AlertRouting with region us-east-1 and its own key).
    health_check_id: the primary's DnsFailover health check; own_check: what the standby checks.
    """

    name_prefix: str
    role: Role
    alerts: AlertDestination
    health_check_id: pulumi.Input[str] | None = None
    own_check: OwnHealthCheck | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.alerts.region != ROUTE53_METRICS_REGION:
            raise ValueError(f"Route 53 health-check alarms live in {ROUTE53_METRICS_REGION}; their topic must too")
        if self.role == "primary" and (self.health_check_id is None or self.own_check is not None):
            raise ValueError("the primary alarms on DnsFailover's health check: give health_check_id only")
        if self.role == "standby" and (self.own_check is None or self.health_check_id is not None):
            raise ValueError("the standby checks its own ALB: give own_check only")


class FailoverAlarms(pulumi.ComponentResource):
    alarm_name: pulumi.Output[str]
    """The us-east-1 alarm on the region's Route 53 health check."""
    health_check_id: pulumi.Output[str]
    """The health check the alarm watches."""

    def __init__(self, name: str, args: FailoverAlarmsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(COMPONENT_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        health_check_id = args.health_check_id
        if args.own_check is not None:
            check = args.own_check
            self.health_check = route53.HealthCheck(
                f"{name}-standby-health", type="HTTPS" if check.https else "HTTP", port=443 if check.https else 80,
                fqdn=check.alb_dns_name, resource_path=check.path, request_interval=check.request_interval_seconds,
                failure_threshold=check.failure_threshold, regions=list(check.checker_regions),
                enable_sni=check.https or None,
                tags={**args.tags, "Name": f"{args.name_prefix}-standby-alb"}, opts=child)
            health_check_id = self.health_check.id
        if health_check_id is None:  # FailoverAlarmsArgs requires one of the two
            raise ValueError(f"{name}: a failover alarm needs the primary's health check or an own check")
        self.spec = health_check_alarm(args.name_prefix, args.role, health_check_id)
        topic = [args.alerts.topic_arn]
        self.alarm = cloudwatch.MetricAlarm(
            f"{name}-alarm", region=ROUTE53_METRICS_REGION,
            **metric_alarm_args(self.spec, alarm_actions=topic, ok_actions=topic), tags=dict(args.tags), opts=child)
        self.alarm_name = self.alarm.name
        self.health_check_id = pulumi.Output.from_input(health_check_id)
        self.register_outputs({"alarmName": self.alarm_name, "healthCheckId": self.health_check_id})
