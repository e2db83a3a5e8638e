"""RegionSwitchPlan: the ARC Region switch plan of one primary/standby pair, its execution and approval roles.

Owned by the standby stack (docs/failover.md, "Who owns the plan"): a plan is a global resource
(`arn:aws:arc-region-switch::<account>:plan/<name>:<id>`, no region) that Region switch executes from the
data plane of the region being activated, so the standby stack can create, change and execute it while
eu-central-1 is down; everything of the primary it names comes from the primary's stack outputs, read
from the state backend, never from eu-central-1.

Workflows (`activePassive`, regions [primary, standby], primary region first):
  * activate <standby>: failover (ungraceful execution) or switchover (graceful execution);
  * activate <primary>: failback, the same steps in the other direction;
  * postRecovery: stop the outbox in the inactive region once it is back (its pipes would resume).
Steps of an activate workflow, in this order (docs/failover.md, "Step order"):
  1. approve (prod): a person confirms; nothing has changed yet.
  2. stop-outbox (deactivating region; skipped when ungraceful, as that region may be unreachable).
  3. capacity-and-writer (parallel): each service's ECS capacity up to the other region's (100 %), each
     Aurora global database switched over (graceful) or failed over (ungraceful), and start-outbox in the
     activating region (after 2, so the two regions never publish at once; before traffic, because a pipe
     starts reading its stream at LATEST). Parallel is safe because no traffic arrives before step 4, and
     it shortens the RTO to the slowest of them.
  4. close-traffic (deactivating region, skipped when ungraceful), then 5. open-traffic (activating).
The builders are pure (plain strings in, the provider's snake_case dicts out) so tests read the plan the
stack registers without a cloud.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws.arcregionswitch as arcregionswitch
import pulumi_aws.iam as iam

COMPONENT_TYPE = "microservices:failover:RegionSwitchPlan"
# CreatePlan `name`: 1-32 of [a-zA-Z0-9-], starting and ending alphanumeric (botocore arc-region-switch).
PLAN_NAME = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?$")
# recoveryTimeObjectiveMinutes: 1-10080.
RTO_MINUTES_RANGE = (1, 10080)
# The execution role's trust: Region switch assumes it (ARC user guide, plan execution role trust policy).
ARC_PRINCIPAL = "arc-region-switch.amazonaws.com"
ECS_ACTIONS = ["ecs:DescribeServices", "ecs:UpdateService"]
AURORA_ACTIONS = ["rds:FailoverGlobalCluster", "rds:SwitchoverGlobalCluster"]
APPROVAL_ACTIONS = ["arc-region-switch:ApprovePlanExecutionStep", "arc-region-switch:GetPlanExecution",
                    "arc-region-switch:ListPlanExecutions"]


@dataclass(frozen=True)
class StepTimeouts:
    """Minutes each block may take before ARC marks it failed; also the plan's RTO terms where ARC gives
    no better figure (foundation/rto.py)."""

    approval: int = 30
    capacity: int = 10
    database: int = 15
    action: int = 5
    retry_interval: float = 1.0


@dataclass(frozen=True)
class ServicePair:
    name: str
    primary_cluster_arn: str
    primary_service_arn: str
    standby_cluster_arn: str
    standby_service_arn: str


@dataclass(frozen=True)
class DatabasePair:
    service: str
    global_cluster_identifier: str
    primary_cluster_arn: str
    standby_cluster_arn: str


@dataclass(frozen=True)
class RegionFunctions:
    """Action -> function ARN in each region (components/failover/region_actions.py)."""

    primary: Mapping[str, str]
    standby: Mapping[str, str]

    def pair(self, action: str) -> list[dict[str, str]] | None:
        if action in self.primary and action in self.standby:
            return [{"arn": self.primary[action]}, {"arn": self.standby[action]}]
        if action in self.primary or action in self.standby:
            raise ValueError(f"the {action} action exists in one region only; both stacks need it")
        return None


@dataclass(frozen=True)
class PlanSpec:
    name: str
    primary_region: str
    standby_region: str
    account_id: str
    environment: str
    services: tuple[ServicePair, ...]
    databases: tuple[DatabasePair, ...]
    functions: RegionFunctions
    approval_role_arn: str | None
    rto_objective_minutes: int
    timeouts: StepTimeouts = field(default_factory=StepTimeouts)

    def __post_init__(self) -> None:
        problems = []
        if not PLAN_NAME.match(self.name):
            problems.append(f"plan name {self.name!r} must be 1-32 letters, digits or '-', alphanumeric at both ends")
        if not self.services:
            problems.append("a plan with no service to scale would move traffic to nothing")
        if not RTO_MINUTES_RANGE[0] <= self.rto_objective_minutes <= RTO_MINUTES_RANGE[1]:
            problems.append(f"recovery time objective must be {RTO_MINUTES_RANGE[0]}-{RTO_MINUTES_RANGE[1]} minutes")
        if self.primary_region == self.standby_region:
            problems.append("the plan needs two different regions")
        if problems:
            raise ValueError("PlanSpec: " + "; ".join(problems))


def _step(name: str, block_type: str, description: str, **config: Any) -> dict[str, Any]:
    return {"name": name, "execution_block_type": block_type, "description": description, **config}


def capacity_step(spec: PlanSpec, service: ServicePair) -> dict[str, Any]:
    return _step(f"capacity-{service.name}", "ECSServiceScaling",
                 f"{service.name}: as many tasks as the other region ran (max sampled over 24 h)",
                 ecs_capacity_increase_configs=[{
                     "services": [{"cluster_arn": service.primary_cluster_arn, "service_arn": service.primary_service_arn},
                                  {"cluster_arn": service.standby_cluster_arn, "service_arn": service.standby_service_arn}],
                     "target_percent": 100, "capacity_monitoring_approach": "sampledMaxInLast24Hours",
                     "timeout_minutes": spec.timeouts.capacity}])


def database_step(spec: PlanSpec, database: DatabasePair) -> dict[str, Any]:
    # Graceful: switchover (RPO 0). Ungraceful: failover with data loss (the lag at the time, RPO bound).
    return _step(f"writer-{database.service}", "AuroraGlobalDatabase",
                 f"{database.service}: move the writer of {database.global_cluster_identifier}",
                 global_aurora_configs=[{
                     "global_cluster_identifier": database.global_cluster_identifier,
                     "database_cluster_arns": [database.primary_cluster_arn, database.standby_cluster_arn],
                     "behavior": "switchoverOnly", "ungracefuls": [{"ungraceful": "failover"}],
                     "timeout_minutes": spec.timeouts.database}])


def action_step(spec: PlanSpec, action: str, region_to_run: str, description: str,
                *, skip_when_ungraceful: bool) -> dict[str, Any] | None:
    lambdas = spec.functions.pair(action)
    if lambdas is None:
        return None
    config: dict[str, Any] = {"lambdas": lambdas, "region_to_run": region_to_run,
                              "retry_interval_minutes": spec.timeouts.retry_interval,
                              "timeout_minutes": spec.timeouts.action}
    if skip_when_ungraceful:
        config["ungracefuls"] = [{"behavior": "skip"}]
    return _step(action, "CustomActionLambda", description, custom_action_lambda_configs=[config])


def activate_steps(spec: PlanSpec) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    if spec.approval_role_arn:
        steps.append(_step("approve", "ManualApproval", "A person confirms the Region switch",
                           execution_approval_configs=[{"approval_role": spec.approval_role_arn,
                                                        "timeout_minutes": spec.timeouts.approval}]))
    stop = action_step(spec, "stop-outbox", "deactivatingRegion", "The old region stops publishing",
                       skip_when_ungraceful=True)
    start = action_step(spec, "start-outbox", "activatingRegion", "The new region publishes from its outbox",
                        skip_when_ungraceful=False)
    steps += [stop] if stop is not None else []
    parallel = [capacity_step(spec, s) for s in spec.services] + [database_step(spec, d) for d in spec.databases]
    parallel += [start] if start is not None else []
    steps.append(_step("capacity-and-writer", "Parallel", "Scale up, move every database writer, start the outbox",
                       parallel_configs=[{"steps": parallel}]))
    optional = [
        action_step(spec, "close-traffic", "deactivatingRegion", "Close the old region's traffic gate",
                    skip_when_ungraceful=True),
        action_step(spec, "open-traffic", "activatingRegion", "Open the new region's traffic gate",
                    skip_when_ungraceful=False),
    ]
    return steps + [s for s in optional if s is not None]


def post_recovery_steps(spec: PlanSpec) -> list[dict[str, Any]]:
    optional = [
        action_step(spec, "stop-outbox", "inactiveRegion", "The recovered region must not publish",
                    skip_when_ungraceful=False),
        action_step(spec, "close-traffic", "inactiveRegion", "The recovered region gets no traffic",
                    skip_when_ungraceful=False),
    ]
    return [s for s in optional if s is not None]


def workflows(spec: PlanSpec) -> list[dict[str, Any]]:
    steps = activate_steps(spec)
    result = [
        {"workflow_target_action": "activate", "workflow_target_region": spec.standby_region,
         "workflow_description": f"Failover (ungraceful) or switchover (graceful) to {spec.standby_region}",
         "steps": steps},
        {"workflow_target_action": "activate", "workflow_target_region": spec.primary_region,
         "workflow_description": f"Failback to {spec.primary_region}", "steps": steps},
    ]
    recovery = post_recovery_steps(spec)
    if recovery:
        result.append({"workflow_target_action": "postRecovery",
                       "workflow_description": "Keep the recovered region silent until failback",
                       "steps": recovery})
    return result


def flat_steps(steps: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Every step, parallel blocks opened up, in order."""
    result: list[Mapping[str, Any]] = []
    for step in steps:
        result.append(step)
        for parallel in step.get("parallel_configs", []):
            result += flat_steps(parallel["steps"])
    return result


def execution_role_policy(spec: PlanSpec) -> dict[str, Any]:
    """What the plan's steps call, on exactly the plan's resources."""
    statements: list[dict[str, Any]] = [
        {"Sid": "ScaleThePlansServices", "Effect": "Allow", "Action": ECS_ACTIONS,
         "Resource": sorted({arn for s in spec.services for arn in (s.primary_service_arn, s.standby_service_arn)})},
        # DescribeScalableTargets has no resource-level permission; a target's ARN ends in a random id, so
        # raising its minimum is held to this environment's targets in the two regions by tag.
        {"Sid": "ReadScalableTargets", "Effect": "Allow",
         "Action": ["application-autoscaling:DescribeScalableTargets"], "Resource": "*"},
        {"Sid": "RaiseOwnEnvironmentsScalableTargets", "Effect": "Allow",
         "Action": ["application-autoscaling:RegisterScalableTarget"],
         "Resource": [f"arn:aws:application-autoscaling:{r}:{spec.account_id}:scalable-target/*"
                      for r in (spec.primary_region, spec.standby_region)],
         "Condition": {"StringEquals": {"aws:ResourceTag/environment": spec.environment}}},
    ]
    if spec.databases:
        global_arns = [f"arn:aws:rds::{spec.account_id}:global-cluster:{d.global_cluster_identifier}"
                       for d in spec.databases]
        cluster_arns = [arn for d in spec.databases for arn in (d.primary_cluster_arn, d.standby_cluster_arn)]
        statements += [
            {"Sid": "MoveThePlansWriters", "Effect": "Allow", "Action": AURORA_ACTIONS,
             "Resource": sorted(global_arns + cluster_arns)},
            {"Sid": "ReadThePlansGlobalDatabases", "Effect": "Allow", "Action": ["rds:DescribeGlobalClusters"],
             "Resource": sorted(global_arns)},
            {"Sid": "ReadThePlansClusters", "Effect": "Allow", "Action": ["rds:DescribeDBClusters"],
             "Resource": sorted(cluster_arns)},
        ]
    function_arns = sorted({*spec.functions.primary.values(), *spec.functions.standby.values()})
    if function_arns:
        statements.append({"Sid": "InvokeTheRegionActions", "Effect": "Allow", "Action": ["lambda:InvokeFunction"],
                           "Resource": function_arns})
    return {"Version": "2012-10-17", "Statement": statements}


def execution_trust_policy(account_id: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "RegionSwitchAssumesRole", "Effect": "Allow", "Principal": {"Service": ARC_PRINCIPAL},
        "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:SourceAccount": account_id}}}]}


def approval_role_policy(account_id: str, plan_name: str) -> dict[str, Any]:
    """Approve (or decline) a step of this plan's executions, and see them; nothing else."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "ApproveThisPlansSteps", "Effect": "Allow", "Action": APPROVAL_ACTIONS,
        "Resource": f"arn:aws:arc-region-switch::{account_id}:plan/{plan_name}:*"}]}


def approval_trust_policy(account_id: str) -> dict[str, Any]:
    """Operators of this account whose own policy allows sts:AssumeRole on this role."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "OperatorsOfThisAccount", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
        "Action": "sts:AssumeRole"}]}


@dataclass(frozen=True)
class RegionSwitchPlanArgs:
    """What the plan names, as Outputs resolved into a PlanSpec (see PlanSpec for the fields).
    approval: a person approves each execution (prod)."""

    name: str
    environment: str
    primary_region: str
    standby_region: str
    account_id: pulumi.Input[str]
    services: pulumi.Input[Sequence[ServicePair]]
    databases: pulumi.Input[Sequence[DatabasePair]]
    primary_functions: pulumi.Input[Mapping[str, str]]
    standby_functions: pulumi.Input[Mapping[str, str]]
    approval: bool
    rto_objective_minutes: int
    timeouts: StepTimeouts = field(default_factory=StepTimeouts)
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not PLAN_NAME.match(self.name):
            raise ValueError(f"RegionSwitchPlanArgs: plan name {self.name!r} must be 1-32 letters, digits or '-'")


class RegionSwitchPlan(pulumi.ComponentResource):
    plan_arn: pulumi.Output[str]
    """The plan (global: no region in its ARN); executed from the region being activated."""
    execution_role_arn: pulumi.Output[str]
    """The role Region switch assumes to run the steps."""
    approval_role_arn: pulumi.Output[str | None]
    """The role a person assumes to approve an execution (prod), else None."""

    def __init__(self, name: str, args: RegionSwitchPlanArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account = pulumi.Output.from_input(args.account_id)
        approval_role: iam.Role | None = None
        if args.approval:
            approval_document = account.apply(lambda a: json.dumps(approval_role_policy(a, args.name)))
            # Boundaries are named in the platform family `<environment>-<region>-boundary-*`, the only ones the
            # deploy role may put on the roles it creates (bootstrap/delivery_access.py).
            approval_boundary = iam.Policy(f"{name}-approval-boundary",
                                           name=f"{args.environment}-{args.standby_region}-boundary-region-switch-approver",
                                           description=f"Boundary of the {args.name} approvers: approve its steps",
                                           policy=approval_document, opts=child)
            approval_role = iam.Role(
                f"{name}-approval", name=f"{args.name}-approver", description=f"Approves {args.name} executions",
                assume_role_policy=account.apply(lambda a: json.dumps(approval_trust_policy(a))),
                permissions_boundary=approval_boundary.arn, opts=child)
            iam.RolePolicy(f"{name}-approval-policy", role=approval_role.id, policy=approval_document, opts=child)

        spec = pulumi.Output.all(account, args.services, args.databases, args.primary_functions,
                                 args.standby_functions, approval_role.arn if approval_role else None).apply(
            lambda v: PlanSpec(name=args.name, primary_region=args.primary_region, standby_region=args.standby_region,
                               account_id=v[0], environment=args.environment, services=tuple(v[1]),
                               databases=tuple(v[2]), functions=RegionFunctions(dict(v[3]), dict(v[4])),
                               approval_role_arn=v[5], rto_objective_minutes=args.rto_objective_minutes,
                               timeouts=args.timeouts))
        execution_document = spec.apply(lambda s: json.dumps(execution_role_policy(s)))
        # The boundary is the role's own document: the role can never do more than the plan's steps.
        boundary = iam.Policy(f"{name}-execution-boundary",
                              name=f"{args.environment}-{args.standby_region}-boundary-region-switch",
                              description=f"Boundary of the {args.name} execution role: the plan's resources",
                              policy=execution_document, opts=child)
        role = iam.Role(f"{name}-execution", name=f"{args.name}-execution",
                        description=f"Region switch runs the {args.name} plan's steps as this role",
                        assume_role_policy=account.apply(lambda a: json.dumps(execution_trust_policy(a))),
                        permissions_boundary=boundary.arn, opts=child)
        policy = iam.RolePolicy(f"{name}-execution-policy", role=role.id, policy=execution_document, opts=child)
        # mypy 2.4 exhausts memory (and then fails internally) matching an Output of plain dicts against the
        # provider's nested Input union of workflow TypedDicts; the documents are checked against botocore's
        # arc-region-switch model in tests/test_region_switch.py instead.
        plan_workflows: Any = spec.apply(workflows)
        plan = arcregionswitch.Plan(
            f"{name}-plan", name=args.name, execution_role=role.arn, recovery_approach="activePassive",
            regions=[args.primary_region, args.standby_region], primary_region=args.primary_region,
            recovery_time_objective_minutes=args.rto_objective_minutes,
            description=f"{args.environment}: activate {args.standby_region} (failover/switchover) or "
                        f"{args.primary_region} (failback)",
            workflows=plan_workflows, tags=dict(args.tags),
            # Region switch evaluates the plan against its role when it is created.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]))
        self.plan_arn = plan.arn
        self.execution_role_arn = role.arn
        self.approval_role_arn = approval_role.arn if approval_role else pulumi.Output.from_input(None)
        self.register_outputs({"planArn": self.plan_arn, "executionRoleArn": self.execution_role_arn,
                               "approvalRoleArn": self.approval_role_arn})
