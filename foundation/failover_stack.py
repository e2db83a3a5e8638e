"""Compose a stack's part of the Region switch: its region actions (every stack with outbox pipes or DNS
failover) and, in a standby, the pair's plan, which names the primary's resources from its stack outputs.

Why the standby owns the plan, and the step order: docs/failover.md and components/failover/region_switch.py.
"""

from __future__ import annotations

import math
from typing import Any

import pulumi

from components.core import outputs
from components.core.contract import PlatformRefs
from components.core.types import PRIMARY_REGION
from components.failover.region_actions import RegionActions, RegionActionsArgs
from components.failover.region_switch import (
    DatabasePair,
    RegionSwitchPlan,
    RegionSwitchPlanArgs,
    ServicePair,
    StepTimeouts,
)
from components.mesh_service import MeshService
from foundation.primary_reference import PrimaryReference, PrimaryStackContractError
from foundation.settings import StackSettings

# How long the plan waits for a person before the approval step fails (the RTO counts approvalMinutes).
APPROVAL_TIMEOUT_MINUTES = 60


def region_actions(settings: StackSettings, refs: PlatformRefs, account_id: pulumi.Input[str],
                   opts: pulumi.ResourceOptions) -> RegionActions | None:
    """This region's Region switch actions: outbox start/stop where there are pipes, the traffic gate and its
    open/close where there is DNS failover (components/failover/region_actions.py)."""
    pipes = settings.outbox_pipe_names
    if not pipes and settings.config.dns is None:
        return None
    return RegionActions(f"{settings.name_prefix}-region-actions", RegionActionsArgs(
        name_prefix=settings.name_prefix, environment=settings.environment, region=settings.region,
        account_id=account_id, pipe_names=pipes,
        traffic_gate_open=(settings.role == "primary") if settings.config.dns else None,
        kms_key_arn=refs.kms_key_arn, log_retention_days=settings.log_retention_days), opts=opts)


def region_switch_plan(settings: StackSettings, refs: PlatformRefs, account_id: pulumi.Input[str],
                       services: dict[str, MeshService], databases: dict[str, Any], primary: PrimaryReference,
                       actions: RegionActions | None, opts: pulumi.ResourceOptions) -> RegionSwitchPlan:
    """The pair's Region switch plan, owned by the standby (docs/failover.md, "Who owns the plan")."""
    failover = settings.config.failover
    primary_services = primary.require_output("services")
    primary_cluster = primary.require_output("clusterArn")
    pairs = outputs.all_values(primary_cluster, primary_services, refs.cluster.arn,
                              {name: s.service_arn for name, s in services.items()}).apply(
        lambda v: [ServicePair(name, v[0], _primary_service_arn(primary, v[1], name), v[2], v[3][name])
                   for name in sorted(v[3])])
    primary_databases = primary.require_output("databases")
    database_pairs = outputs.all_values(primary_databases, databases).apply(
        lambda v: [DatabasePair(name, _primary_global_database(primary, v[0], name)[0],
                                _primary_global_database(primary, v[0], name)[1], v[1][name]["clusterArn"])
                   for name in sorted(settings.global_database_services)])
    primary_functions = primary.get_output("regionActions").apply(
        lambda raw: _primary_functions(primary, raw, actions is not None))
    return RegionSwitchPlan(f"{settings.environment}-region-switch", RegionSwitchPlanArgs(
        name=f"{settings.environment}-region-switch", environment=settings.environment,
        primary_region=PRIMARY_REGION, standby_region=settings.region, account_id=account_id,
        services=pairs, databases=database_pairs, primary_functions=primary_functions,
        standby_functions=actions.function_arns if actions is not None else {},
        approval=settings.plan_approval, rto_objective_minutes=max(1, math.ceil(failover.rto_objective_minutes)),
        timeouts=StepTimeouts(approval=APPROVAL_TIMEOUT_MINUTES,
                              capacity=max(1, math.ceil(2 * failover.scale_up_minutes)),
                              database=max(1, math.ceil(2 * failover.database_switch_minutes)))), opts=opts)


def _primary_service_arn(primary: PrimaryReference, raw: Any, name: str) -> str:
    entry = raw.get(name) if isinstance(raw, dict) else None
    if not isinstance(entry, dict) or not isinstance(entry.get("arn"), str):
        raise PrimaryStackContractError(f"primary stack {primary.primary_stack!r} output 'services' has no "
                                        f"{name}.arn; enable {name} in the primary first")
    return str(entry["arn"])


def _primary_global_database(primary: PrimaryReference, raw: Any, name: str) -> tuple[str, str]:
    entry = raw.get(name) if isinstance(raw, dict) else None
    if not isinstance(entry, dict) or not entry.get("globalClusterIdentifier") or not entry.get("clusterArn"):
        raise PrimaryStackContractError(f"primary stack {primary.primary_stack!r} output 'databases' has no "
                                        f"global database for {name}; deploy the primary with {name}'s data first")
    return str(entry["globalClusterIdentifier"]), str(entry["clusterArn"])


def _primary_functions(primary: PrimaryReference, raw: Any, standby_has_actions: bool) -> dict[str, str]:
    if raw is None and not standby_has_actions:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise PrimaryStackContractError(f"primary stack {primary.primary_stack!r} exports no 'regionActions' "
                                        "(the Region switch plan calls them); update the primary first")
    return dict(raw)
