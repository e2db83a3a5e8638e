"""Compose one stack: the regional provider, the RegionalPlatform, the services, the failover wiring.

Knows about stacks and settings; owns no AWS resource itself. Returns the stack outputs.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any, cast

import pulumi
import pulumi_aws as aws

from components.core.contract import PlatformRefs
from components.core.outputs import lift
from components.core.types import PRIMARY_REGION, STANDBY_REGION
from components.cost.budget_scale_down import BudgetScaleDown, BudgetScaleDownArgs, ScaledService
from components.cost.cost_controls import CostControls, CostControlsArgs
from components.cost.stack_budget import BudgetApprovalRecord, StackBudget, StackBudgetArgs
from components.data.names import DATABASE_HOST_KEY
from components.data.service_secrets import ServiceSecrets, ServiceSecretsArgs
from components.data.spec import PostgresData
from components.failover.dns_failover import DnsFailover, DnsFailoverArgs
from components.failover.registry_replication import RegistryReplication, RegistryReplicationArgs
from components.legacy.legacy_route import LegacyFunction, LegacyFunctionArgs, LegacySplit
from components.mesh_service import (
    AlarmThresholds,
    DeploymentSettings,
    MeshService,
    MeshServiceArgs,
    ServiceDefinition,
    ServiceOperations,
    Timeouts,
)
from components.mesh_service.clients import ServiceClientGroups, ServiceClientGroupsArgs
from components.observability.alert_routing import AlertDestination, AlertRouting, AlertRoutingArgs
from components.observability.audit import AuditTrail, AuditTrailArgs
from components.observability.failover_alarms import (
    ROUTE53_METRICS_REGION,
    FailoverAlarms,
    FailoverAlarmsArgs,
    OwnHealthCheck,
)
from components.observability.quotas import QuotaAlarms, QuotaAlarmsArgs
from components.observability.service_observability import ServiceObservability, ServiceObservabilityArgs
from components.observability.slo import AlbSource
from components.observability.stack_health import StackHealth, StackHealthArgs, StackService
from components.observability.tracing import TraceSampling, TraceSamplingArgs
from components.regional_platform import CapacityStrategy, RegionalPlatform, RegionalPlatformArgs
from foundation.data_stack import build_data_and_events
from foundation.failover_stack import region_actions, region_switch_plan
from foundation.lifecycle import protect_stateful_resources
from foundation.primary_reference import PrimaryReference
from foundation.settings import StackSettings
from foundation.settings.load_balancers import api_record_name, shard_health_check_path

# The replica of a primary secret lives in the standby region before the standby stack exists, so it
# is encrypted with the standby region's AWS managed Secrets Manager key, which any principal of the
# account may use through Secrets Manager without a key-policy grant.
REPLICA_SECRET_KEY = "alias/aws/secretsmanager"


def regional_provider(settings: StackSettings) -> aws.Provider:
    """The only AWS provider of a stack: its own region, its account, the cost tags on everything."""
    return aws.Provider(
        f"aws-{settings.region}",
        region=settings.region,
        allowed_account_ids=[settings.account_id] if settings.account_id else None,
        default_tags={"tags": settings.default_tags},
    )


def legacy_functions(settings: StackSettings, opts: pulumi.ResourceOptions) -> dict[str, LegacyFunction]:
    """The existing Lambda functions this stack puts behind its ALB (strangler fig, docs/strangler-fig.md)."""
    return {name: LegacyFunction(f"{settings.environment}-legacy-{name}", LegacyFunctionArgs(
                environment=settings.environment, region=settings.region, name=name, function_arn=arn), opts=opts)
            for name, arn in sorted(settings.legacy.functions.items())}


def legacy_split(settings: StackSettings, service: str,
                 functions: dict[str, LegacyFunction]) -> LegacySplit | None:
    split = settings.legacy.splits.get(service)
    if split is None:
        return None
    return LegacySplit(function_name=split.function, target_group_arn=functions[split.function].target_group_arn,
                       ecs_weight=split.ecs_weight, priority=split.priority)


def platform_args(settings: StackSettings, account_id: pulumi.Input[str],
                  default_target_group_arn: pulumi.Input[str] | None = None) -> RegionalPlatformArgs:
    config, defaults = settings.config, settings.defaults
    capacity = settings.capacity
    return RegionalPlatformArgs(
        environment=settings.environment,
        region=settings.region,
        role=settings.role,
        account_id=account_id,
        vpc_cidr=str(config.network.vpc_cidr),
        az_count=config.network.az_count,
        nat_strategy=config.network.nat_strategy,
        endpoint_az_count=config.network.endpoint_az_count,
        repository_names={s.name: settings.repository_name(s.name) for s in settings.services},
        capacity=CapacityStrategy(capacity.on_demand_base, capacity.on_demand_weight, capacity.spot_weight,
                                  capacity.spot_base),
        alb_idle_timeout_seconds=config.service_connect.alb_idle_timeout_seconds,
        service_connect_tls=config.service_connect.tls,
        tracing=config.tracing.enabled,
        domain_name=config.dns.domain if config.dns else None,
        hosted_zone_id=config.dns.hosted_zone_id if config.dns else None,
        container_insights=defaults.container_insights,
        deletion_protection=defaults.deletion_protection,
        access_log_retention_days=defaults.access_log_retention_days,
        repository_tags=settings.default_tags,
        alert_topic_name=alert_topic_name(settings),
        budget_scale_down_name=budget_scale_down_name(settings),
        default_target_group_arn=default_target_group_arn,
        load_balancer_count=len(settings.alb_shards),
    )


def alert_topic_name(settings: StackSettings) -> str:
    return f"{settings.name_prefix}-alerts"


def budget_scale_down_name(settings: StackSettings) -> str | None:
    """The scale-down topic's and function's name when the stack opts in (budget.scaleDownOnBreach)."""
    return f"{settings.name_prefix}-budget-scale-down" if settings.config.budget.scale_down_on_breach else None


def budget_scale_down(settings: StackSettings, refs: PlatformRefs, services: dict[str, MeshService],
                      opts: pulumi.ResourceOptions) -> BudgetScaleDown | None:
    name = budget_scale_down_name(settings)
    if name is None:
        return None
    return BudgetScaleDown(name, BudgetScaleDownArgs(
        name=name, account_id=refs.account_id, cluster_name=refs.cluster.name,
        services={spec.name: ScaledService(services[spec.name].service_name, services[spec.name].service_arn,
                                           services[spec.name].scaling_target.arn, spec.min_tasks)
                  for spec in settings.services},
        kms_key_arn=refs.kms_key_arn, permissions_boundary_arn=refs.permissions_boundary_arn,
        dead_letter_topic_arn=refs.alarm_topic_arn, log_retention_days=settings.log_retention_days), opts=opts)


def alert_routing_args(settings: StackSettings, account_id: pulumi.Input[str],
                       kms_key_arn: pulumi.Input[str] | None, region: str, topic_name: str) -> AlertRoutingArgs:
    alerts = settings.config.alerts
    return AlertRoutingArgs(
        topic_name=topic_name, region=region, account_id=account_id, emails=alerts.emails,
        https_endpoint=alerts.https_endpoint, kms_key_arn=kms_key_arn,
        resource_region=region if region != settings.region else None)


def alarm_destination(settings: StackSettings, refs: PlatformRefs) -> AlertDestination:
    """Where a service's health alarm pages: the contract's alarm topic."""
    if refs.alarm_topic_arn is None:
        raise ValueError("the platform contract has no alarm topic; create AlertRouting before the services")
    return AlertDestination(topic_arn=refs.alarm_topic_arn, topic_name=alert_topic_name(settings),
                            region=settings.region)


def service_observability(settings: StackSettings, refs: PlatformRefs, name: str,
                          service: MeshService) -> ServiceObservability:
    """The service's SLO alarms, health alarm, dashboard and log queries, nested under the service."""
    alb = None
    if service.target_groups:
        blue, green = service.target_groups
        alb = AlbSource(refs.load_balancer.arn_suffix, (blue.arn_suffix, green.arn_suffix))
    return ServiceObservability(f"{settings.environment}-{name}-observability", ServiceObservabilityArgs(
        name_prefix=settings.name_prefix, environment=settings.environment, region=settings.region,
        service_name=name, cluster_name=refs.cluster.name, log_group_name=service.log_group_name,
        slo=settings.config.slo.targets(), alerts=alarm_destination(settings, refs), alb=alb,
        container_insights=settings.defaults.container_insights != "disabled"),
        opts=pulumi.ResourceOptions(parent=service))


def stack_observability(settings: StackSettings, refs: PlatformRefs, account_id: pulumi.Input[str],
                        alerts: AlertRouting, observed: dict[str, ServiceObservability],
                        health_check_id: pulumi.Input[str] | None, in_region: pulumi.ResourceOptions) -> None:
    """Stack health and overview, quota alarms, X-Ray sampling, failover alarms (us-east-1), audit (owner)."""
    prefix = settings.name_prefix
    StackHealth(f"{prefix}-health", StackHealthArgs(
        name_prefix=prefix, region=settings.region, cluster_name=refs.cluster.name, alerts=alerts.destination,
        services=tuple(StackService(name, item.composite_alarm_name, item.composite_alarm_arn,
                                    item.alb) for name, item in observed.items())), opts=in_region)
    QuotaAlarms(f"{prefix}-quotas", QuotaAlarmsArgs(
        name_prefix=prefix, region=settings.region, alerts=alerts.destination,
        spot=settings.capacity.spot_weight > 0), opts=in_region)
    if settings.config.tracing.enabled:
        TraceSampling(f"{prefix}-sampling", TraceSamplingArgs(prefix, settings.environment,
                                                              settings.trace_sampling_ratio), opts=in_region)
    # A standby without its own liveness check (a pilot light: settings.has_own_liveness_check) gets no
    # failover alarm or alert topic either.
    if settings.config.dns and (settings.role == "primary" or settings.has_own_liveness_check):
        failover_alerts = AlertRouting(f"{prefix}-failover-alerts", alert_routing_args(
            settings, account_id, None, ROUTE53_METRICS_REGION, f"{prefix}-failover-alerts"), opts=in_region)
        failover = settings.config.failover
        own_check = None
        if settings.role == "standby":
            # Liveness, not readiness: a warm standby is not ready (its database is a reader) until the plan runs.
            own_check = OwnHealthCheck(
                alb_dns_name=refs.load_balancer.dns_name, path=settings.failover_liveness_path,
                request_interval_seconds=failover.health_check_interval_seconds,
                failure_threshold=failover.failure_threshold, checker_regions=failover.health_check_regions)
        FailoverAlarms(f"{prefix}-failover-alarm", FailoverAlarmsArgs(
            name_prefix=prefix, role=settings.role, alerts=failover_alerts.destination,
            health_check_id=health_check_id, own_check=own_check), opts=in_region)
    if settings.config.audit.owner:
        AuditTrail(f"{settings.project}-audit", AuditTrailArgs(
            trail_name=f"{settings.project}-audit", home_region=settings.region, account_id=account_id,
            analyzer_regions=tuple(region for region in (PRIMARY_REGION, STANDBY_REGION)
                                   if region not in settings.config.audit.existing_analyzer_regions),
            deletion_protection=settings.defaults.deletion_protection), opts=in_region)


def service_operations(settings: StackSettings) -> ServiceOperations:
    """How this stack runs every service: the stack's product settings, once for all services."""
    config, deployment = settings.config, settings.config.deployment
    return ServiceOperations(
        tracing_enabled=config.tracing.enabled, trace_sampling_ratio=settings.trace_sampling_ratio,
        log_retention_days=settings.log_retention_days,
        timeouts=Timeouts(per_request_seconds=config.service_connect.per_request_timeout_seconds,
                          idle_seconds=config.service_connect.idle_timeout_seconds,
                          http_client_seconds=config.service_connect.client_timeout_seconds),
        deployment=DeploymentSettings(
            strategy=deployment.strategy, canary_percent=deployment.canary_percent,
            canary_bake_minutes=deployment.canary_bake_minutes, step_percent=deployment.step_percent,
            step_bake_minutes=deployment.step_bake_minutes, bake_time_minutes=deployment.bake_time_minutes),
        alarm_thresholds=AlarmThresholds(error_rate_percent=config.alarms.error_rate_percent,
                                         p95_latency_ms=config.alarms.p95_latency_ms))


def service_args(platform: PlatformRefs, service: ServiceDefinition, operations: ServiceOperations,
                 secret_arns: pulumi.Output[dict[str, Any]], client_groups: ServiceClientGroups,
                 legacy: LegacySplit | None = None,
                 database_host: pulumi.Output[str] | None = None) -> MeshServiceArgs:
    return MeshServiceArgs(
        platform=platform, service=service, operations=operations, legacy=legacy,
        platform_config={DATABASE_HOST_KEY: database_host} if database_host is not None else {},
        client_security_group_id=client_groups.group_ids.get(service.name),
        callee_client_security_group_ids=tuple(client_groups.group_ids[callee] for callee in service.calls),
        secret_arns={env: secret_arns.apply(functools.partial(_secret_arn, f"{service.name}/{name}"))
                     for name, env in service.secret_env_names.items()})


def _secret_arn(key: str, arns: dict[str, Any]) -> str:
    return str(arns[key])


def failover_args(settings: StackSettings, platform: PlatformRefs, hosted_zone_id: pulumi.Input[str],
                  record_name: pulumi.Input[str], shard: int = 0,
                  traffic_gate_id: pulumi.Input[str] | None = None) -> DnsFailoverArgs:
    """The failover of the `shard`th ALB (0: the first, which serves the API name)."""
    failover = settings.config.failover
    balancer = platform.on_load_balancer(shard).load_balancer
    return DnsFailoverArgs(
        role=settings.role, region=settings.region, hosted_zone_id=hosted_zone_id, record_name=record_name,
        alb_dns_name=balancer.dns_name, alb_zone_id=balancer.zone_id,
        health_check_path=settings.health_check_path if shard == 0 else shard_health_check_path(
            settings.alb_shards[shard]),
        health_check_request_interval_seconds=failover.health_check_interval_seconds,
        health_check_failure_threshold=failover.failure_threshold,
        health_checker_regions=failover.health_check_regions, traffic_gate_id=traffic_gate_id,
        tags={"Name": f"{settings.project}-{settings.stack}-api" + (f"-{shard + 1}" if shard else "")},
    )


def shard_failovers(settings: StackSettings, platform: PlatformRefs, hosted_zone_id: pulumi.Input[str],
                    opts: pulumi.ResourceOptions, traffic_gate_id: pulumi.Input[str] | None = None) -> list[str]:
    """Failover records of the ALBs after the first: `<api>-<n>.<domain>` in both regions, each with the
    same PRIMARY/SECONDARY pair as the API name. Returns their names."""
    dns, names = settings.config.dns, []
    if dns is None:
        raise ValueError(f"stack '{settings.stack}' has no dns settings, so its load balancers have no failover records")
    for shard in range(1, len(settings.alb_shards)):
        record = api_record_name(dns.api_subdomain, dns.domain, shard + 1)
        DnsFailover(f"{settings.environment}-api-{shard + 1}-failover",
                    failover_args(settings, platform, hosted_zone_id, record, shard, traffic_gate_id), opts=opts)
        names.append(record)
    return names


def stack_outputs(settings: StackSettings, refs: PlatformRefs, secret_arns: pulumi.Input[dict[str, Any]],
                  services: dict[str, MeshService]) -> dict[str, Any]:
    """What the stack exports; a standby reads its primary's through foundation.primary_reference."""
    network, cluster, balancer = refs.network, refs.cluster, refs.load_balancer
    return {
        "environment": settings.environment,
        "region": settings.region,
        "role": settings.role,
        "vpcId": network.vpc_id,
        "vpcCidr": network.vpc_cidr,
        "privateSubnetIds": network.private_subnet_ids,
        "publicSubnetIds": network.public_subnet_ids,
        "clusterArn": cluster.arn,
        "clusterName": cluster.name,
        "namespaceId": cluster.namespace_id,
        "namespaceArn": cluster.namespace_arn,
        "albArn": balancer.arn,
        "albDnsName": balancer.dns_name,
        "albZoneId": balancer.zone_id,
        "httpListenerArn": balancer.http_listener_arn,
        "httpsListenerArn": balancer.https_listener_arn,
        "loadBalancers": [{"arn": each.arn, "dnsName": each.dns_name, "zoneId": each.zone_id}
                          for each in refs.load_balancers],
        "repositoryUrls": {name: repository.url for name, repository in refs.repositories.items()},
        "repositoryNames": {name: repository.name for name, repository in refs.repositories.items()},
        "kmsKeyArn": refs.kms_key_arn,
        "permissionsBoundaryArn": refs.permissions_boundary_arn,
        "serviceConnectCaArn": refs.service_connect_tls.certificate_authority_arn if refs.service_connect_tls else None,
        "secretArns": secret_arns,
        "collectorImageUri": refs.collector_image_uri,
        "alertTopicArn": refs.alarm_topic_arn,
        "services": {name: {"name": service.service_name, "arn": service.service_arn,
                            "discoveryName": service.discovery_name,
                            "urlPath": settings.service(name).path_prefix}
                     for name, service in services.items()},
    }


def build(settings: StackSettings) -> dict[str, Any]:
    protect_stateful_resources(settings.environment)
    provider = regional_provider(settings)
    in_region = pulumi.ResourceOptions(providers=[provider])
    account_id = settings.account_id or aws.get_caller_identity_output(
        opts=pulumi.InvokeOutputOptions(provider=provider)).account_id
    legacy = legacy_functions(settings, in_region)
    default_function = settings.legacy.default_function
    platform = RegionalPlatform(f"{settings.environment}-{settings.region}", platform_args(
        settings, account_id, legacy[default_function].target_group_arn if default_function else None),
        opts=in_region)
    alerts = AlertRouting(f"{settings.name_prefix}-alerts", alert_routing_args(
        settings, account_id, platform.refs.kms_key_arn, settings.region, alert_topic_name(settings)), opts=in_region)
    refs = dataclasses.replace(platform.refs, alarm_topic_arn=alerts.topic_arn)
    if settings.config.cost_controls.owner:
        # Activate the tags budgets and Cost Explorer group by: the provider's cost tags plus the service tag.
        CostControls(f"{settings.project}-cost-controls", CostControlsArgs(
            name=settings.project, tag_keys=("environment", "cost-center", "owner", "service"),
            # E-mail only: the alert topic's policy admits budgets.amazonaws.com but not costalerts.amazonaws.com
            # (components/observability/alert_policies.py would need a CostAnomalyPublish statement).
            alert_emails=settings.config.budget.alert_emails, alert_topic_arn=None,
            anomaly_threshold_usd=settings.config.cost_controls.anomaly_threshold_usd,
            activate_tags=settings.config.cost_controls.activate_tags,
            existing_monitor_arn=settings.config.cost_controls.existing_monitor_arn), opts=in_region)

    dns = settings.config.dns
    outputs: dict[str, Any] = {}
    primary: PrimaryReference | None = None
    health_check_id: pulumi.Input[str] | None = None
    actions = region_actions(settings, refs, account_id, in_region)
    # With DNS the region actions always create the traffic gate (its id is None only without DNS).
    gate_id = cast(pulumi.Output[str], actions.gate_health_check_id) if actions is not None and dns else None
    if actions is not None:
        outputs |= {"regionActions": actions.function_arns, "trafficGateHealthCheckId": actions.gate_health_check_id}
    if settings.role == "primary":
        secrets = ServiceSecrets(f"{settings.environment}-secrets", ServiceSecretsArgs(
            environment=settings.environment,
            secret_names_by_service={s.name: s.secrets for s in settings.services if s.secrets},
            kms_key_id=refs.kms_key_arn, replica_kms_key_id=REPLICA_SECRET_KEY,
            replica_region=STANDBY_REGION), opts=in_region)
        secret_arns: pulumi.Input[dict[str, Any]] = secrets.secret_arns
        if dns:
            failover = DnsFailover(f"{settings.environment}-api-failover", failover_args(
                settings, refs, dns.hosted_zone_id, dns.api_name, traffic_gate_id=gate_id), opts=in_region)
            # A primary's DnsFailover always creates its health check (None is the standby's).
            health_check_id = cast(pulumi.Output[str], failover.health_check_id)
            outputs |= {"hostedZoneId": dns.hosted_zone_id, "apiRecordName": dns.api_name,
                        "apiRecordNames": [dns.api_name, *shard_failovers(settings, refs, dns.hosted_zone_id,
                                                                          in_region, gate_id)]}
        replication = settings.config.registry_replication
        if replication.owner:
            RegistryReplication(f"{settings.environment}-ecr-replication", RegistryReplicationArgs(
                account_id=account_id, destination_region=STANDBY_REGION,
                repository_prefixes=replication.repository_prefixes), opts=in_region)
    else:
        primary_stack = settings.config.failover.primary_stack
        if primary_stack is None:  # StackConfig requires it of a standby
            raise ValueError(f"stack '{settings.stack}' is a standby without failover.primaryStack")
        primary = PrimaryReference(
            primary_stack, expected_environment=settings.environment,
            standby_region=settings.region, standby_vpc_cidr=str(settings.config.network.vpc_cidr),
            required_secrets=[f"{s.name}/{secret}" for s in settings.services for secret in s.secrets])
        # The standby's tasks read the replicas in their own region.
        secret_arns = primary.replica_secret_arns(settings.region)
        if dns:
            zone, record = primary.require_failover_record()
            DnsFailover(f"{settings.environment}-api-failover", failover_args(
                settings, refs, zone, record, traffic_gate_id=gate_id), opts=in_region)
            # The standby serves the primary's DNS settings (cross-stack check), so it derives the same names.
            shard_failovers(settings, refs, zone, in_region, gate_id)

    operations = service_operations(settings)
    secret_arns_output = lift(secret_arns)
    shard_of = {spec.name: index for index, shard in enumerate(settings.alb_shards) for spec in shard}
    # Security groups follow the catalog's call graph through one client group per called service, which
    # exist before any service (so cycles need no ordering): components/mesh_service/clients.py.
    client_groups = ServiceClientGroups(f"{settings.environment}-service-clients", ServiceClientGroupsArgs(
        environment=settings.environment, vpc_id=refs.network.vpc_id,
        called_services=tuple(sorted({callee for spec in settings.services for callee in spec.calls}))),
        opts=in_region)
    # The database host is the database's writer endpoint, which exists only after the service (its security
    # group admits the service's tasks); a deferred output lets the service's config parameter wait for it.
    hosts: dict[str, tuple[pulumi.Output[str], Callable[[pulumi.Output[str]], None]]] = {
        spec.name: pulumi.deferred_output() for spec in settings.services
             if isinstance(settings.data_and_events[spec.name].data, PostgresData)}
    services = {spec.name: MeshService(f"{settings.environment}-{spec.name}",
                                       service_args(refs.on_load_balancer(shard_of.get(spec.name, 0)), spec,
                                                    operations, secret_arns_output, client_groups,
                                                    legacy_split(settings, spec.name, legacy),
                                                    hosts[spec.name][0] if spec.name in hosts else None),
                                       opts=in_region)
                for spec in settings.services}
    observed = {name: service_observability(settings, refs, name, service) for name, service in services.items()}
    # After the services: the scale-down function names their scalable targets, and its topic receives the
    # budget's ACTUAL 100 % notification.
    scale_down = budget_scale_down(settings, refs, services, in_region)
    approval = settings.config.budget.approval
    StackBudget(f"{settings.project}-{settings.stack}", StackBudgetArgs(
        name=f"{settings.project}-{settings.stack}", environment=settings.environment, region=settings.region,
        monthly_usd=settings.monthly_budget_usd, alert_emails=settings.config.budget.alert_emails,
        alert_topic_arn=alerts.topic_arn, breach_topic_arn=scale_down.topic_arn if scale_down else None,
        approval=BudgetApprovalRecord(approval.amount_eur, approval.reason, approval.approver) if approval else None),
        opts=in_region)
    stack_observability(settings, refs, account_id, alerts, observed, health_check_id, in_region)
    outputs |= build_data_and_events(settings, refs, services, primary, in_region)
    for name, (_, resolve) in hosts.items():
        resolve(pulumi.Output.from_input(outputs["databases"][name]).apply(lambda d: str(d["writerEndpoint"])))
    if primary is not None:
        plan = region_switch_plan(settings, refs, account_id, services, outputs["databases"], primary, actions,
                                  in_region)
        outputs |= {"regionSwitchPlanArn": plan.plan_arn, "regionSwitchExecutionRoleArn": plan.execution_role_arn,
                    "regionSwitchApprovalRoleArn": plan.approval_role_arn}

    return stack_outputs(settings, refs, secret_arns, services) | outputs
