"""StackHealth: the stack's composite health alarm (OR of the service health alarms) and its overview
dashboard. The composite notifies the alert topic on ALARM and OK: it is the first page of an incident
in the stack; the service health alarm that fired with it says where.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws.cloudwatch as cloudwatch

from components.core import outputs
from components.observability.alarm_specs import COMPOSITE_CHILDREN_MAX, CompositeSpec
from components.observability.alert_routing import AlertDestination
from components.observability.dashboards import OverviewInputs, OverviewService, overview_dashboard
from components.observability.slo import AlbSource, service_groups, stack_composite

COMPONENT_TYPE = "microservices:observability:StackHealth"


@dataclass(frozen=True)
class StackService:
    """A service as the overview sees it: its name, its health alarm, its ALB source (None: internal)."""

    service_name: str
    health_alarm_name: pulumi.Input[str]
    health_alarm_arn: pulumi.Input[str]
    alb: AlbSource | None = None


@dataclass(frozen=True)
class StackHealthArgs:
    name_prefix: str
    region: str
    cluster_name: pulumi.Input[str]
    alerts: AlertDestination
    services: tuple[StackService, ...]
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.services:
            raise ValueError("StackHealth needs at least one service")
        if self.alerts.region != self.region:
            raise ValueError("the stack health alarm must notify a topic in its own region")

    @property
    def composite_name(self) -> str:
        return f"{self.name_prefix}-platform-health"


class StackHealth(pulumi.ComponentResource):
    health_alarm_name: pulumi.Output[str]
    """Name of the stack's composite health alarm."""
    dashboard_name: pulumi.Output[str]
    """Name of the overview dashboard."""

    def __init__(self, name: str, args: StackHealthArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(COMPONENT_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        names = [s.health_alarm_name for s in args.services]
        # Above 100 services the stack alarm names groups of service alarms (slo.service_groups); the group
        # count depends only on the number of services, so it is known before the names resolve.
        self.groups: list[cloudwatch.CompositeAlarm] = []
        group_count = -(-len(names) // COMPOSITE_CHILDREN_MAX) if len(names) > COMPOSITE_CHILDREN_MAX else 0
        if group_count:
            resolved_names = outputs.all_values(*names)  # one combination that every group picks from
            for index in range(group_count):
                group = resolved_names.apply(functools.partial(_group, args.name_prefix, index))
                self.groups.append(cloudwatch.CompositeAlarm(
                    f"{name}-health-{index + 1}", alarm_name=f"{args.name_prefix}-platform-health-{index + 1}",
                    alarm_description=group.apply(lambda c: c.description), alarm_rule=group.apply(lambda c: c.rule),
                    actions_enabled=True, tags=dict(args.tags), opts=child))
        if self.groups:
            names = [group.alarm_name for group in self.groups]

        def spec(resolved: list[Any]) -> CompositeSpec:
            return stack_composite(args.name_prefix, list(resolved))

        composite = outputs.all_values(*names).apply(spec)
        self.composite = cloudwatch.CompositeAlarm(
            f"{name}-health", alarm_name=args.composite_name,
            alarm_description=composite.apply(lambda c: c.description), alarm_rule=composite.apply(lambda c: c.rule),
            actions_enabled=True, alarm_actions=[args.alerts.topic_arn], ok_actions=[args.alerts.topic_arn],
            tags=dict(args.tags), opts=child)

        alb_parts = [[s.alb.load_balancer, *s.alb.target_groups] if s.alb else [] for s in args.services]

        def body(values: list[Any]) -> str:
            cluster, arns, *parts = values
            services = tuple(
                OverviewService(s.service_name, (p[0], (p[1], p[2])) if p else None)
                for s, p in zip(args.services, parts, strict=False))
            return overview_dashboard(OverviewInputs(args.region, args.name_prefix, cluster, services,
                                                     composite_alarm_arns=tuple(arns))).json()

        self.dashboard = cloudwatch.Dashboard(
            f"{name}-overview", dashboard_name=f"{args.name_prefix}-overview",
            dashboard_body=outputs.all_values(
                args.cluster_name, [self.composite.arn, *[s.health_alarm_arn for s in args.services]],
                *alb_parts).apply(body),
            opts=child)
        self.health_alarm_name = self.composite.alarm_name
        self.dashboard_name = self.dashboard.dashboard_name
        self.register_outputs({"healthAlarmName": self.health_alarm_name, "dashboardName": self.dashboard_name})


def _group(name_prefix: str, index: int, resolved: list[str]) -> CompositeSpec:
    return service_groups(name_prefix, list(resolved))[index]
