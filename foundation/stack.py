"""Compose one stack: the regional provider, the RegionalPlatform, the services, the failover wiring.

Knows about stacks and settings; owns no AWS resource itself. Returns the stack outputs.
"""

from __future__ import annotations

from typing import Any, Optional

import pulumi
import pulumi_aws as aws

from components.dns_failover import DnsFailover, DnsFailoverArgs
from components.mesh_service import (AlarmThresholds, AlbRouting, DeploymentSettings, MeshService, MeshServiceArgs,
                                     ServiceConnectTls, Timeouts)
from components.regional_platform import CapacityStrategy, RegionalPlatform, RegionalPlatformArgs
from components.registry_replication import RegistryReplication, RegistryReplicationArgs
from components.service_secrets import ServiceSecrets, ServiceSecretsArgs
from components.stack_budget import StackBudget, StackBudgetArgs
from foundation.primary_reference import PrimaryReference
from foundation.settings import STANDBY_REGION, ServiceSpec, StackSettings

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


def platform_args(settings: StackSettings, account_id: pulumi.Input[str]) -> RegionalPlatformArgs:
    config = settings.config
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
        capacity=platform_capacity(settings),
        alb_idle_timeout_seconds=config.service_connect.alb_idle_timeout_seconds,
        service_connect_tls=config.service_connect.tls,
        tracing=config.tracing.enabled,
        domain_name=config.dns.domain if config.dns else None,
        hosted_zone_id=config.dns.hosted_zone_id if config.dns else None,
        container_insights="enhanced" if settings.environment == "prod" else "enabled",
        deletion_protection=settings.environment == "prod",
        repository_tags=settings.default_tags,
    )


def secret_env_name(secret: str) -> str:
    """`jwt-signing-key` -> `JWT_SIGNING_KEY`: the environment variable a secret is injected as."""
    return secret.upper().replace("-", "_")


def service_args(settings: StackSettings, service: ServiceSpec, platform: RegionalPlatform,
                 secret_arns: pulumi.Output[dict]) -> MeshServiceArgs:
    config = settings.config
    image = service.image
    separator = "@" if image.startswith("sha256:") else ":"
    routing = None
    if service.path_prefix:
        routing = AlbRouting(
            listener_arn=platform.routing_listener_arn, alb_security_group_id=platform.alb_security_group_id,
            alb_arn_suffix=platform.alb_arn_suffix, rule_priority=service.listener_rule_priority,
            load_balancer_role_arn=platform.load_balancer_role_arn,
            depends_on=platform.load_balancer_role_dependencies)
    deployment = config.deployment
    return MeshServiceArgs(
        service_name=service.name, environment=settings.environment, region=settings.region,
        container_port=service.port, health_path=service.health_path, app_cpu=service.cpu,
        app_memory=service.memory, architecture=service.architecture, min_tasks=service.min_tasks,
        max_tasks=service.max_tasks,
        image_uri=platform.repository_urls[service.name].apply(lambda url: f"{url}{separator}{image}"),
        repository_arn=platform.repository_arns[service.name], kms_key_arn=platform.kms_key_arn,
        permissions_boundary_arn=platform.permissions_boundary_arn, cluster_arn=platform.cluster_arn,
        cluster_name=platform.cluster_name, namespace_arn=platform.namespace_arn,
        namespace_name=platform.namespace_name, vpc_id=platform.vpc_id,
        private_subnet_ids=platform.private_subnet_ids,
        capacity_provider_strategy=RegionalPlatform.capacity_provider_strategy(platform_capacity(settings)),
        service_connect_tls=ServiceConnectTls(
            enabled=config.service_connect.tls,
            certificate_authority_arn=platform.certificate_authority.arn if platform.certificate_authority else None,
            role_arn=platform.service_connect_tls_role_arn, kms_key_arn=platform.kms_key_arn,
            depends_on=platform.service_connect_tls_dependencies),
        path_prefix=service.path_prefix, routing=routing,
        secrets={secret_env_name(name): secret_arns.apply(lambda arns, key=f"{service.name}/{name}": arns[key])
                 for name in service.secrets},
        plain_config=service.config,
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
                                         p95_latency_ms=config.alarms.p95_latency_ms),
        collector_image_uri=platform.collector_image_uri,
    )


def platform_capacity(settings: StackSettings) -> CapacityStrategy:
    capacity = settings.capacity
    return CapacityStrategy(capacity.on_demand_base, capacity.on_demand_weight, capacity.spot_weight)


def failover_args(settings: StackSettings, platform: RegionalPlatform, hosted_zone_id: pulumi.Input[str],
                  record_name: pulumi.Input[str]) -> DnsFailoverArgs:
    failover = settings.config.failover
    return DnsFailoverArgs(
        role=settings.role, region=settings.region, hosted_zone_id=hosted_zone_id, record_name=record_name,
        alb_dns_name=platform.alb_dns_name, alb_zone_id=platform.alb_zone_id,
        health_check_path=failover.health_check_path,
        health_check_request_interval_seconds=failover.health_check_interval_seconds,
        health_check_failure_threshold=failover.failure_threshold,
        health_checker_regions=failover.health_check_regions,
        tags={"Name": f"{settings.project}-{settings.stack}-api"},
    )


def build(settings: StackSettings) -> dict[str, Any]:
    provider = regional_provider(settings)
    in_region = pulumi.ResourceOptions(providers=[provider])
    account_id = settings.account_id or aws.get_caller_identity_output(
        opts=pulumi.InvokeOutputOptions(provider=provider)).account_id
    platform = RegionalPlatform(f"{settings.environment}-{settings.region}", platform_args(settings, account_id),
                                opts=in_region)
    StackBudget(f"{settings.project}-{settings.stack}", StackBudgetArgs(
        name=f"{settings.project}-{settings.stack}", environment=settings.environment, region=settings.region,
        monthly_usd=settings.monthly_budget_usd, alert_emails=settings.config.budget.alert_emails), opts=in_region)

    dns = settings.config.dns
    outputs: dict[str, Any] = {}
    primary: Optional[PrimaryReference] = None
    if settings.role == "primary":
        secrets = ServiceSecrets(f"{settings.environment}-secrets", ServiceSecretsArgs(
            environment=settings.environment,
            secret_names_by_service={s.name: s.secrets for s in settings.services if s.secrets},
            kms_key_id=platform.kms_key_arn, replica_kms_key_id=REPLICA_SECRET_KEY,
            replica_region=STANDBY_REGION), opts=in_region)
        secret_arns: pulumi.Input[dict] = secrets.secret_arns
        if dns:
            DnsFailover(f"{settings.environment}-api-failover",
                        failover_args(settings, platform, dns.hosted_zone_id, dns.api_name), opts=in_region)
            outputs |= {"hostedZoneId": dns.hosted_zone_id, "apiRecordName": dns.api_name}
        replication = settings.config.registry_replication
        if replication.owner:
            RegistryReplication(f"{settings.environment}-ecr-replication", RegistryReplicationArgs(
                account_id=account_id, destination_region=STANDBY_REGION,
                repository_prefixes=replication.repository_prefixes), opts=in_region)
    else:
        primary = PrimaryReference(
            settings.config.failover.primary_stack, expected_environment=settings.environment,
            standby_region=settings.region, standby_vpc_cidr=str(settings.config.network.vpc_cidr),
            required_secrets=[f"{s.name}/{secret}" for s in settings.services for secret in s.secrets])
        # The standby's tasks read the replicas in their own region.
        secret_arns = primary.replica_secret_arns(settings.region)
        if dns:
            zone, record = primary.require_failover_record()
            DnsFailover(f"{settings.environment}-api-failover", failover_args(settings, platform, zone, record),
                        opts=in_region)

    services = {spec.name: MeshService(f"{settings.environment}-{spec.name}",
                                       service_args(settings, spec, platform, pulumi.Output.from_input(secret_arns)),
                                       opts=in_region)
                for spec in settings.services}
    # Security groups follow the catalog's call graph exactly, once every group exists (cycles allowed).
    for spec in settings.services:
        for callee in spec.calls:
            services[callee].allow_calls_from(services[spec.name])

    return {
        "environment": settings.environment,
        "region": settings.region,
        "role": settings.role,
        "vpcId": platform.vpc_id,
        "vpcCidr": platform.vpc_cidr,
        "privateSubnetIds": platform.private_subnet_ids,
        "publicSubnetIds": platform.public_subnet_ids,
        "clusterArn": platform.cluster_arn,
        "clusterName": platform.cluster_name,
        "namespaceId": platform.namespace_id,
        "namespaceArn": platform.namespace_arn,
        "albArn": platform.alb_arn,
        "albDnsName": platform.alb_dns_name,
        "albZoneId": platform.alb_zone_id,
        "httpListenerArn": platform.http_listener_arn,
        "httpsListenerArn": platform.https_listener_arn,
        "repositoryUrls": platform.repository_urls,
        "repositoryNames": {s.name: settings.repository_name(s.name) for s in settings.services},
        "kmsKeyArn": platform.kms_key_arn,
        "permissionsBoundaryArn": platform.permissions_boundary_arn,
        "serviceConnectCaArn": platform.certificate_authority.arn if platform.certificate_authority else None,
        "secretArns": secret_arns,
        "collectorImageUri": platform.collector_image_uri,
        "services": {name: {"name": service.service_name, "arn": service.service_arn,
                            "discoveryName": service.discovery_name,
                            "urlPath": settings.service(name).path_prefix}
                     for name, service in services.items()},
        **outputs,
    }
