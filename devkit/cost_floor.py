"""What each seed requirement costs at its minimum in one Region, priced by the estimator.

Each requirement is the smallest set of resources that meets it (the components build more: this is the
floor, not the stacks' figure), at the prod floors of the usage assumptions. docs/cost-model.md carries the
table `scripts/cost_floor.py` prints; tests/test_cost_floor.py keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from policies.cost.assumptions import assumptions_for
from policies.cost.estimator import estimate, resources_from_records
from policies.cost.prices import PriceBook

SEED_SERVICES = 5
# The seeds' interface endpoints (the required-vpc-endpoints policy's list); the S3 gateway is free.
SEED_INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "logs", "ssm", "secretsmanager")
# The smallest Fargate size that holds a 128-unit app, the Service Connect proxy (256) and the tracing
# collector (128): 0.5 vCPU / 1 GB (components/mesh_service/sizing.py).
SMALLEST_TASK = {"cpu": "512", "memory": "1024"}
# The task row: HA tasks in an active Region; a warm standby's one task per service is not an HA pair.
TASK_ROWS = {False: "HA tasks", True: "Warm standby tasks"}


@dataclass(frozen=True)
class FloorRow:
    requirement: str
    minimum: str
    eur: float


def _record(type_: str, name: str, inputs: dict[str, Any], region: str) -> dict[str, Any]:
    return {"urn": f"urn:pulumi:floor::p::{type_}::{name}", "type": type_, "name": name, "parent": None,
            "custom": True, "providerRegion": region, "inputs": inputs}


def _requirements(region: str, azs: int, standby: bool) -> list[tuple[str, str, list[dict[str, Any]]]]:
    subnets = [f"subnet-{i}" for i in range(azs)]
    endpoints = [_record("aws:ec2/vpcEndpoint:VpcEndpoint", service, {
        "vpcEndpointType": "Interface", "serviceName": f"com.amazonaws.{region}.{service}", "subnetIds": subnets,
        "privateDnsEnabled": True}, region) for service in SEED_INTERFACE_ENDPOINTS]
    tls = {"enabled": True, "services": [{"portName": "http", "tls": {"issuerCertAuthority": {
        "awsPcaAuthorityArn": "arn"}}}]}
    tasks, ca_certificates, observability = [], [], []
    for index in range(SEED_SERVICES):
        name = f"svc{index}"
        tasks.append(_record("aws:ecs/taskDefinition:TaskDefinition", f"{name}-task", {
            "family": name, **SMALLEST_TASK, "runtimePlatform": {"cpuArchitecture": "ARM64"}}, region))
        tasks.append(_record("aws:ecs/service:Service", f"{name}-service", {
            "name": name, "taskDefinition": f"arn:aws:ecs:{region}:1:task-definition/{name}:1",
            "cluster": "floor", "desiredCount": 1 if standby else 2,
            # Two tasks in two AZs, both on Spot: the least a service that tolerates Spot's notice runs on
            # (platform/services.yaml `interruptible`). A warm standby's one task: Spot alone.
            "capacityProviderStrategies": [{"capacityProvider": "FARGATE", "base": 0, "weight": 0},
                                           {"capacityProvider": "FARGATE_SPOT", "weight": 1}]}, region))
        ca_certificates.append(_record("aws:ecs/service:Service", f"{name}-tls", {
            "name": name, "taskDefinition": f"arn:aws:ecs:{region}:1:task-definition/{name}:1", "cluster": "floor",
            "serviceConnectConfiguration": tls}, region))
        observability.append(_record("aws:appautoscaling/policy:Policy", f"{name}-cpu", {
            "policyType": "TargetTrackingScaling"}, region))
    cluster = _record("aws:ecs/cluster:Cluster", "floor", {
        "name": "floor", "settings": [{"name": "containerInsights", "value": "enabled"}]}, region)
    return [
        ("VPC endpoints", f"{len(SEED_INTERFACE_ENDPOINTS)} interface endpoints in {azs} AZ(s), S3 gateway (free)",
         endpoints),
        ("Private CA (Service Connect TLS)", f"1 short-lived-mode CA, certificates and key secrets of "
         f"{SEED_SERVICES} services", [_record("aws:acmpca/certificateAuthority:CertificateAuthority", "ca", {
             "usageMode": "SHORT_LIVED_CERTIFICATE"}, region), *ca_certificates, *tasks[0::2]]),
        ("Aurora global database", ("secondary at 0.5 ACU (a secondary never auto-pauses)" if standby else
                                    "writer at 0.5 ACU (a global primary never auto-pauses)")
         + ", storage, I/O, replicated writes", [
             _record("aws:rds/cluster:Cluster", "db", {"clusterIdentifier": "db", "serverlessv2ScalingConfiguration":
                                                        {"minCapacity": 0.5, "maxCapacity": 0.5}}, region),
             _record("aws:rds/clusterInstance:ClusterInstance", "db-1", {
                 "clusterIdentifier": "db", "instanceClass": "db.serverless"}, region),
             _record("aws:rds/globalCluster:GlobalCluster", "global", {}, region)]),
        (TASK_ROWS[standby], f"{SEED_SERVICES} services x "
         + ("1 task (Spot)" if standby else "2 tasks in 2 AZs (Spot, interruptible)") + ", 0.5 vCPU/1 GB ARM64", [
            *tasks, cluster | {"inputs": {"name": "floor"}}]),
        ("ALB", "1 internet-facing ALB in 2 AZs at the LCU floor", [
            _record("aws:lb/loadBalancer:LoadBalancer", "alb", {
                "loadBalancerType": "application", "subnets": ["subnet-a", "subnet-b"]}, region)]),
        ("Observability", f"Container Insights on the cluster and {SEED_SERVICES} services, 10 % of requests "
         "traced, a log group per service, the scaling alarms", [
             cluster, *tasks,
             _record("aws:xray/samplingRule:SamplingRule", "sampling", {"fixedRate": 0.1}, region),
             *[_record("aws:cloudwatch/logGroup:LogGroup", f"svc{i}-logs", {"retentionInDays": 30}, region)
               for i in range(SEED_SERVICES)], *observability]),
    ] + ([("Region switch plan", "the pair's plan, registered in the standby (docs/failover.md)", [
        _record("aws:arcregionswitch/plan:Plan", "plan", {"name": "plan"}, region)])] if standby else [])


def cost_floor(prices: PriceBook, region: str = "eu-central-1", azs: int = 1,
               standby: bool = False) -> list[FloorRow]:
    """One row per seed requirement: its minimum in ``region`` (endpoints in ``azs`` AZs), EUR per month; a
    ``standby`` runs one task per service and carries the pair's Region switch plan.
    Rows other than the task row leave out the tasks they ride on (priced under that row)."""
    # A standby is held to the quiet row (policies/cost/assumptions.py FLOORS): it serves no traffic.
    usage = assumptions_for({}, "prod", "standby" if standby else None)
    rows = []
    for requirement, minimum, records in _requirements(region, azs, standby):
        result = estimate(resources_from_records(records), prices, usage, default_region=region)
        eur = result.total_eur
        if requirement not in TASK_ROWS.values():
            eur -= sum(v for k, v in result.by_driver().items() if k.startswith("Fargate tasks"))
        rows.append(FloorRow(requirement, minimum, eur))
    return rows


def render_floor_markdown(rows: Sequence[FloorRow], region: str, ceiling_eur: float = 200,
                          standby: bool = False) -> str:
    total = sum(row.eur for row in rows)
    lines = [f"Seed requirements at their minimum in {region}{' (warm standby)' if standby else ''} (EUR per "
             f"month, {'the quiet standby' if standby else 'prod'} floors of the usage assumptions):", "", "| Requirement | Minimum | €/month |", "|---|---|---:|"]
    lines += [f"| {row.requirement} | {row.minimum} | {row.eur:.2f} |" for row in rows]
    lines += [f"| **Total** | | **{total:.2f}** |", "",
              f"Against the seeds' €100 (€{ceiling_eur:.0f} with approval): the floor is "
              f"€{total:.2f}, {'within' if total <= ceiling_eur else 'above'} €{ceiling_eur:.0f}."]
    return "\n".join(lines)
