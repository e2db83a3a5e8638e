"""A small reference stack and its cost worked out by hand from the price file.

The hand calculation below is written independently of ``policies/cost/estimator.py``: each line
states its arithmetic with the counts of the reference stack spelled out, so that comparing it
with the estimator's output checks the estimator (tests/test_cost_estimator.py) and documents the
model (scripts/cost_reference.py prints both for docs/cost-model.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from policies.cost.assumptions import UsageAssumptions
from policies.cost.prices import PriceBook

REGION = "eu-central-1"
_PREFIX = "urn:pulumi:ref::microservices-foundation::"
_STACK = f"{_PREFIX}pulumi:pulumi:Stack::microservices-foundation-ref"
_PLATFORM = f"{_PREFIX}microservices:platform:RegionalPlatform::ref-platform"
_SERVICE = f"{_PREFIX}microservices:platform:MeshService::ref-api"


def _record(type_: str, name: str, inputs: dict[str, Any], parent: str | None) -> dict[str, Any]:
    parent_type = parent.split("::")[2] if parent and parent != _STACK else None
    qualified = f"{parent_type}${type_}" if parent_type else type_
    custom = type_.startswith("aws:")  # components have no provider (as in the offline preview's records)
    return {"urn": f"{_PREFIX}{qualified}::{name}", "type": type_, "name": name, "parent": parent, "custom": custom,
            "providerRegion": REGION if custom else None, "inputs": inputs}


def reference_records() -> list[dict[str, Any]]:
    """The reference stack as the offline preview records it (camelCase wire inputs)."""
    tags = {"service": "api"}
    return [
        {"urn": _STACK, "type": "pulumi:pulumi:Stack", "name": "microservices-foundation-ref", "parent": None,
         "providerRegion": None, "inputs": {}},
        _record("microservices:platform:RegionalPlatform", "ref-platform", {}, _STACK),
        _record("microservices:platform:MeshService", "ref-api", {}, _STACK),
        _record("aws:ec2/natGateway:NatGateway", "ref-nat-a", {"connectivityType": "public"}, _PLATFORM),
        _record("aws:ec2/eip:Eip", "ref-nat-a", {"domain": "vpc"}, _PLATFORM),
        *[_record("aws:ec2/vpcEndpoint:VpcEndpoint", f"ref-{svc}",
                  {"vpcEndpointType": "Interface", "serviceName": f"com.amazonaws.{REGION}.{svc}",
                   "subnetIds": ["subnet-a", "subnet-b"], "privateDnsEnabled": True}, _PLATFORM)
          for svc in ("ecr.api", "logs")],
        _record("aws:ec2/vpcEndpoint:VpcEndpoint", "ref-s3",
                {"vpcEndpointType": "Gateway", "serviceName": f"com.amazonaws.{REGION}.s3"}, _PLATFORM),
        _record("aws:lb/loadBalancer:LoadBalancer", "ref-alb",
                {"loadBalancerType": "application", "internal": False, "subnets": ["subnet-c", "subnet-d"]},
                _PLATFORM),
        _record("aws:kms/key:Key", "ref-key", {"enableKeyRotation": True}, _PLATFORM),
        _record("aws:ecs/taskDefinition:TaskDefinition", "ref-api-taskdef",
                {"family": "ref-api", "cpu": "1024", "memory": "2048", "requiresCompatibilities": ["FARGATE"],
                 "runtimePlatform": {"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"},
                 "tags": tags}, _SERVICE),
        _record("aws:ecs/service:Service", "ref-api-service",
                {"name": "api", "taskDefinition": f"arn:aws:ecs:{REGION}:123456789012:task-definition/ref-api:1",
                 "cluster": f"arn:aws:ecs:{REGION}:123456789012:cluster/ref",
                 "capacityProviderStrategies": [{"capacityProvider": "FARGATE", "base": 1, "weight": 1},
                                                {"capacityProvider": "FARGATE_SPOT", "base": 0, "weight": 1}],
                 "tags": tags}, _SERVICE),
        _record("aws:appautoscaling/target:Target", "ref-api-scaling",
                {"serviceNamespace": "ecs", "resourceId": "service/ref/api", "minCapacity": 1, "maxCapacity": 3,
                 "scalableDimension": "ecs:service:DesiredCount", "tags": tags}, _SERVICE),
        _record("aws:cloudwatch/logGroup:LogGroup", "ref-api-logs", {"retentionInDays": 30, "tags": tags}, _SERVICE),
        _record("aws:cloudwatch/metricAlarm:MetricAlarm", "ref-api-5xx",
                {"metricName": "HTTPCode_Target_5XX_Count", "period": 60, "tags": tags}, _SERVICE),
        _record("aws:secretsmanager/secret:Secret", "ref-api-secret",
                {"replicas": [{"region": "eu-west-1"}], "tags": tags}, _SERVICE),
    ]


@dataclass(frozen=True)
class HandLine:
    item: str
    arithmetic: str
    usd: float


def hand_calculation(prices: PriceBook, usage: UsageAssumptions | None = None) -> list[HandLine]:
    """The reference stack's monthly cost, line by line, from the price file."""
    usage = usage or UsageAssumptions()
    p = prices.regions[REGION]
    h = prices.hours_per_month

    def usd(name: str) -> float:
        return getattr(p, name).usd

    # Scaling target 1..3, average fraction f: 1 + f*2 tasks. Strategy: base 1 on FARGATE, the rest
    # split 1:1 between FARGATE and FARGATE_SPOT.
    tasks = 1 + usage.average_task_fraction * 2
    on_demand = 1 + (tasks - 1) / 2
    spot = (tasks - 1) / 2
    kept_months = 30 / 30.4
    return [
        HandLine("Fargate on-demand (1 vCPU, 2 GB, x86)",
                 f"{on_demand:g} tasks x (1 x {usd('fargate_x86_vcpu_hour')} + 2 x {usd('fargate_x86_gb_hour')}) x {h:g}",
                 on_demand * (usd("fargate_x86_vcpu_hour") + 2 * usd("fargate_x86_gb_hour")) * h),
        HandLine("Fargate Spot (1 vCPU, 2 GB, x86)",
                 f"{spot:g} tasks x (1 x {usd('fargate_spot_x86_vcpu_hour')} + 2 x {usd('fargate_spot_x86_gb_hour')}) x {h:g}",
                 spot * (usd("fargate_spot_x86_vcpu_hour") + 2 * usd("fargate_spot_x86_gb_hour")) * h),
        HandLine("NAT gateway hours", f"{h:g} x {usd('nat_gateway_hour')}", h * usd("nat_gateway_hour")),
        HandLine("NAT gateway data", f"{usage.nat_gb_per_month:g} GB x {usd('nat_gateway_gb')}",
                 usage.nat_gb_per_month * usd("nat_gateway_gb")),
        HandLine("NAT EIP (public IPv4)", f"{h:g} x {usd('public_ipv4_hour')}", h * usd("public_ipv4_hour")),
        HandLine("2 interface endpoints in 2 AZs", f"4 AZ-endpoints x {h:g} x {usd('interface_endpoint_az_hour')}",
                 4 * h * usd("interface_endpoint_az_hour")),
        HandLine("interface endpoint data", f"2 x {usage.interface_endpoint_gb_per_month:g} GB x {usd('interface_endpoint_gb')}",
                 2 * usage.interface_endpoint_gb_per_month * usd("interface_endpoint_gb")),
        HandLine("ALB hours", f"{h:g} x {usd('alb_hour')}", h * usd("alb_hour")),
        HandLine("ALB LCUs", f"{usage.alb_lcu:g} LCU x {h:g} x {usd('alb_lcu_hour')}",
                 usage.alb_lcu * h * usd("alb_lcu_hour")),
        HandLine("ALB public IPv4 (2 AZs)", f"2 x {h:g} x {usd('public_ipv4_hour')}", 2 * h * usd("public_ipv4_hour")),
        HandLine("KMS key", f"1 x {usd('kms_key_month')}", usd("kms_key_month")),
        HandLine("KMS requests", f"{usage.kms_requests_per_key:g} / 10k x {usd('kms_requests10k')}",
                 usage.kms_requests_per_key / 10_000 * usd("kms_requests10k")),
        HandLine("log ingest", f"{usage.log_gb_per_service:g} GB x {usd('cloudwatch_logs_ingest_gb')}",
                 usage.log_gb_per_service * usd("cloudwatch_logs_ingest_gb")),
        HandLine("log storage (30 days kept)",
                 f"{usage.log_gb_per_service:g} GB x 30/30.4 months x {usd('cloudwatch_logs_storage_gb_month')}",
                 usage.log_gb_per_service * kept_months * usd("cloudwatch_logs_storage_gb_month")),
        HandLine("alarm (1 standard metric)", f"1 x {usd('cloudwatch_alarm_standard_metric_month')}",
                 usd("cloudwatch_alarm_standard_metric_month")),
        HandLine("secret + 1 replica", f"2 x {usd('secrets_manager_secret_month')}",
                 2 * usd("secrets_manager_secret_month")),
        HandLine("secret API calls", f"{usage.secret_api_calls_per_secret:g} / 10k x {usd('secrets_manager_api10k')}",
                 usage.secret_api_calls_per_secret / 10_000 * usd("secrets_manager_api10k")),
    ]
