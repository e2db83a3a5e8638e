"""Compose one stack: the regional provider, the RegionalPlatform, the services, the failover wiring.

Knows about stacks and settings; owns no AWS resource itself. Returns the stack outputs.
"""

from __future__ import annotations

from typing import Any, Optional

import pulumi
import pulumi_aws as aws

from components.dns_failover import DnsFailover, DnsFailoverArgs
from components.regional_platform import CapacityStrategy, RegionalPlatform, RegionalPlatformArgs
from components.registry_replication import RegistryReplication, RegistryReplicationArgs
from components.service_secrets import ServiceSecrets, ServiceSecretsArgs
from components.stack_budget import StackBudget, StackBudgetArgs
from foundation.primary_reference import PrimaryReference
from foundation.settings import STANDBY_REGION, StackSettings

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
        capacity=CapacityStrategy(capacity.on_demand_base, capacity.on_demand_weight, capacity.spot_weight),
        alb_idle_timeout_seconds=config.service_connect.alb_idle_timeout_seconds,
        service_connect_tls=config.service_connect.tls,
        tracing=config.tracing.enabled,
        domain_name=config.dns.domain if config.dns else None,
        hosted_zone_id=config.dns.hosted_zone_id if config.dns else None,
        container_insights="enhanced" if settings.environment == "prod" else "enabled",
        deletion_protection=settings.environment == "prod",
    )


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
        primary = PrimaryReference(settings.config.failover.primary_stack,
                                   expected_environment=settings.environment, standby_region=settings.region)
        # The standby's tasks read the replicas in their own region.
        secret_arns = primary.replica_secret_arns(settings.region)
        if dns:
            zone, record = primary.require_failover_record()
            DnsFailover(f"{settings.environment}-api-failover", failover_args(settings, platform, zone, record),
                        opts=in_region)

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
        **outputs,
    }
