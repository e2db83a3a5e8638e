"""Compose one stack: the regional provider, the RegionalPlatform, the services, the failover wiring.

Knows about stacks and settings; owns no AWS resource itself. Returns the stack outputs.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from components.regional_platform import CapacityStrategy, RegionalPlatform, RegionalPlatformArgs
from components.stack_budget import StackBudget, StackBudgetArgs
from foundation.settings import StackSettings


def regional_provider(settings: StackSettings) -> aws.Provider:
    """The only AWS provider of a stack: its own region, its account, the cost tags on everything."""
    return aws.Provider(
        f"aws-{settings.region}",
        region=settings.region,
        allowed_account_ids=[settings.account_id] if settings.account_id else None,
        default_tags={"tags": settings.default_tags},
    )


def platform_args(settings: StackSettings) -> RegionalPlatformArgs:
    config = settings.config
    capacity = settings.capacity
    return RegionalPlatformArgs(
        environment=settings.environment,
        region=settings.region,
        role=settings.role,
        account_id=settings.account_id or aws.get_caller_identity_output().account_id,
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


def build(settings: StackSettings) -> dict[str, Any]:
    provider = regional_provider(settings)
    platform = RegionalPlatform(
        f"{settings.environment}-{settings.region}", platform_args(settings),
        opts=pulumi.ResourceOptions(providers=[provider]))
    StackBudget(f"{settings.project}-{settings.stack}", StackBudgetArgs(
        name=f"{settings.project}-{settings.stack}", environment=settings.environment, region=settings.region,
        monthly_usd=settings.monthly_budget_usd, alert_emails=settings.config.budget.alert_emails),
        opts=pulumi.ResourceOptions(providers=[provider]))

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
    }
