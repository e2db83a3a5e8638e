"""ServiceObservability: everything a person needs to operate one service.

* the SLO alarms of slo.py, without actions of their own: they are the children of
* one composite health alarm per service that notifies the alert topic on ALARM and OK (one page per
  incident, whose state reason names the child alarm that fired);
* the error-log metric filter (`{ $.level = "ERROR" }`) feeding the error-logs alarm, and the saved Logs
  Insights queries "errors by trace id" and "slowest requests";
* the service dashboard (dashboards.py).

The deployment-rollback alarms of MeshService are separate on purpose: they watch each target group of
a canary alone and act on the deployment, not on people.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws.cloudwatch as cloudwatch

from components.core import outputs
from components.core.types import Environment
from components.observability.alarm_specs import metric_alarm_args
from components.observability.alert_routing import AlertDestination
from components.observability.dashboards import ServiceDashboardInputs, service_dashboard
from components.observability.logs import ERROR_FILTER_PATTERN, error_filter_name, error_line_metric, saved_queries
from components.observability.slo import AlbSource, ServiceAlarmInputs, SloTargets, service_alarms, service_composite

COMPONENT_TYPE = "microservices:observability:ServiceObservability"


@dataclass(frozen=True)
class ServiceObservabilityArgs:
    """name_prefix: the stack's alarm and dashboard prefix (e.g. `prod`, `prod-euw1`).
    alb: the routed service's load balancer and blue/green target groups; None for internal services.
    """

    name_prefix: str
    environment: Environment
    region: str
    service_name: str
    cluster_name: pulumi.Input[str]
    log_group_name: pulumi.Input[str]
    slo: SloTargets
    alerts: AlertDestination
    # The cluster's Container Insights is on (`enabled` or `enhanced`): only then the task-count alarm.
    container_insights: bool
    alb: AlbSource | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.alerts.region != self.region:
            raise ValueError(f"{self.service_name}: alarms in {self.region} cannot notify the topic in "
                             f"{self.alerts.region}; an alarm action must be in the alarm's region")

    @property
    def alarm_inputs(self) -> ServiceAlarmInputs:
        return ServiceAlarmInputs(
            name_prefix=self.name_prefix, service_name=self.service_name, cluster_name=self.cluster_name,
            slo=self.slo, alb=self.alb, error_log_metric=error_line_metric(self.environment, self.service_name),
            container_insights=self.container_insights)

    @property
    def dashboard_name(self) -> str:
        return f"{self.name_prefix}-{self.service_name}"


class ServiceObservability(pulumi.ComponentResource):
    composite_alarm_name: pulumi.Output[str]
    """The service's health alarm, the one that pages."""
    composite_alarm_arn: pulumi.Output[str]
    """ARN of the health alarm (the stack composite and the overview dashboard read it)."""
    alarm_names: pulumi.Output[list[str]]
    """Names of the SLO alarms under the health alarm."""
    dashboard_name: pulumi.Output[str]
    """Name of the service dashboard."""

    def __init__(self, name: str, args: ServiceObservabilityArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(COMPONENT_TYPE, name, None, opts)
        self._child = pulumi.ResourceOptions(parent=self)
        tags = {**args.tags, "service": args.service_name}
        inputs = args.alarm_inputs
        self.alb = args.alb

        metric = error_line_metric(args.environment, args.service_name)
        # The `service` dimension comes from the line's own `service` field (the log contract); with
        # dimensions CloudWatch Logs allows no default value, so quiet minutes publish nothing.
        self.metric_filter = cloudwatch.LogMetricFilter(
            f"{name}-error-lines", name=error_filter_name(args.environment, args.service_name),
            log_group_name=args.log_group_name, pattern=ERROR_FILTER_PATTERN,
            metric_transformation={"name": metric.name, "namespace": metric.namespace, "value": "1",
                                   "unit": "Count", "dimensions": {"service": "$.service"}},
            opts=self._child)
        self.queries = [
            cloudwatch.QueryDefinition(f"{name}-query-{query.name.rsplit('/', 1)[-1]}", name=query.name,
                                       query_string=query.query, log_group_names=[args.log_group_name],
                                       opts=self._child)
            for query in saved_queries(args.environment, args.service_name)]

        specs = service_alarms(inputs)
        # Children have no actions: the composite pages once, naming the child in its state reason.
        self.alarms = [cloudwatch.MetricAlarm(f"{name}-{spec.key}", **metric_alarm_args(spec), tags=tags,
                                              opts=pulumi.ResourceOptions(parent=self, depends_on=[self.metric_filter]))
                       for spec in specs]
        composite = service_composite(inputs, specs)
        self.composite = cloudwatch.CompositeAlarm(
            f"{name}-health", alarm_name=composite.name, alarm_description=composite.description,
            alarm_rule=composite.rule, actions_enabled=True, alarm_actions=[args.alerts.topic_arn],
            ok_actions=[args.alerts.topic_arn], tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=self.alarms))

        alb = args.alb
        alb_parts = [alb.load_balancer, *alb.target_groups] if alb else []

        def body(values: list[Any]) -> str:
            cluster, log_group, *rest = values
            alarm_arns, alb_values = rest[0], rest[1:]
            return service_dashboard(ServiceDashboardInputs(
                region=args.region, name_prefix=args.name_prefix, service_name=args.service_name,
                cluster_name=cluster, log_group_name=log_group, slo=args.slo,
                alb=(alb_values[0], (alb_values[1], alb_values[2])) if alb_values else None,
                alarm_arns=tuple(alarm_arns), error_log_metric=inputs.error_log_metric)).json()

        self.dashboard = cloudwatch.Dashboard(
            f"{name}-dashboard", dashboard_name=args.dashboard_name,
            dashboard_body=outputs.all_values(args.cluster_name, args.log_group_name,
                                              [self.composite.arn, *[a.arn for a in self.alarms]],
                                              *alb_parts).apply(body),
            opts=self._child)

        self.composite_alarm_name = self.composite.alarm_name
        self.composite_alarm_arn = self.composite.arn
        self.alarm_names = outputs.all_values(*[alarm.name for alarm in self.alarms])
        self.dashboard_name = self.dashboard.dashboard_name
        self.register_outputs({"compositeAlarmName": self.composite_alarm_name,
                               "compositeAlarmArn": self.composite_alarm_arn, "alarmNames": self.alarm_names,
                               "dashboardName": self.dashboard_name})

