"""RegionActions: one region's custom actions for the Region switch plan, and its traffic gate.

Per stack, only what it has (docs/failover.md, "Region actions"):
  * with outbox pipes: `<stack>-start-outbox` and `<stack>-stop-outbox`;
  * with DNS failover: the traffic gate, a Route 53 CALCULATED health check with no children and threshold
    0 ("always healthy") unless inverted, and `<stack>-open-traffic` / `<stack>-close-traffic`, which flip
    it. The stack's failover record follows AND(readiness check, gate) (components/failover/dns_failover.py).
The gate starts open in the primary and closed in the standby; `pulumi up` never moves it afterwards
(ignore_changes), so only the plan moves traffic.

All functions share the code of `region_actions_handler.py` and one role that may describe, start and
stop exactly this stack's pipes, read and invert exactly this stack's gate, and write its own log groups.
Its boundary is a policy of its own: the platform boundary holds no pipe or Route 53 control.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws.cloudwatch as cloudwatch
import pulumi_aws.iam as iam
import pulumi_aws.lambda_ as lambda_
import pulumi_aws.route53 as route53

from components.core.validation import LAMBDA_FUNCTION_NAME
from components.failover.region_actions_handler import (
    ENV_ACTION,
    ENV_GATE,
    ENV_PIPES,
    OUTBOX_ACTIONS,
    TRAFFIC_ACTIONS,
)

COMPONENT_TYPE = "microservices:failover:RegionActions"
HANDLER_FILE = Path(__file__).with_name("region_actions_handler.py")
HANDLER = "region_actions_handler.handler"
RUNTIME = "python3.13"
ARCHITECTURE = "arm64"
# One Describe and at most one Start/Stop per pipe, or two Route 53 calls: seconds.
TIMEOUT_SECONDS = 60
MEMORY_MB = 128
PIPE_ACTIONS = ["pipes:DescribePipe", "pipes:StartPipe", "pipes:StopPipe"]
GATE_ACTIONS = ["route53:GetHealthCheck", "route53:UpdateHealthCheck"]


def function_name(name_prefix: str, action: str) -> str:
    name = f"{name_prefix}-{action}"
    if action not in OUTBOX_ACTIONS + TRAFFIC_ACTIONS or not LAMBDA_FUNCTION_NAME.fullmatch(name):
        raise ValueError(f"region action function {name!r}: the action must be one of "
                         f"{OUTBOX_ACTIONS + TRAFFIC_ACTIONS} and the name 1-64 letters, digits, '_' or '-'")
    return name


def pipe_arn(region: str, account_id: str, pipe_name: str) -> str:
    return f"arn:aws:pipes:{region}:{account_id}:pipe/{pipe_name}"


def health_check_arn(health_check_id: str) -> str:
    return f"arn:aws:route53:::healthcheck/{health_check_id}"


def log_group_arn(region: str, account_id: str, function: str) -> str:
    return f"arn:aws:logs:{region}:{account_id}:log-group:/aws/lambda/{function}"


def role_policy(region: str, account_id: str, functions: tuple[str, ...], pipe_names: tuple[str, ...],
                gate_id: str | None) -> dict[str, Any]:
    """Exactly this stack's pipes and gate, exactly its functions' log groups."""
    statements: list[dict[str, Any]] = []
    if pipe_names:
        statements.append({"Sid": "SwitchOwnOutboxPipes", "Effect": "Allow", "Action": PIPE_ACTIONS,
                           "Resource": [pipe_arn(region, account_id, p) for p in sorted(pipe_names)]})
    if gate_id:
        statements.append({"Sid": "FlipOwnTrafficGate", "Effect": "Allow", "Action": GATE_ACTIONS,
                           "Resource": health_check_arn(gate_id)})
    statements.append({"Sid": "WriteOwnLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                       "Resource": [f"{log_group_arn(region, account_id, f)}:*" for f in sorted(functions)]})
    return {"Version": "2012-10-17", "Statement": statements}


def trust_policy() -> dict[str, Any]:
    """Lambda's documented execution-role trust (components/cost/budget_scale_down.py: why no condition)."""
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


@dataclass(frozen=True)
class RegionActionsArgs:
    """name_prefix: the stack's prefix (functions `<prefix>-<action>`). pipe_names: this stack's outbox
    pipes. traffic_gate_open: None without DNS failover, else whether the gate starts open (primary).
    kms_key_arn: the platform key (log groups)."""

    name_prefix: str
    environment: str
    region: str
    account_id: pulumi.Input[str]
    pipe_names: tuple[str, ...]
    traffic_gate_open: bool | None
    kms_key_arn: pulumi.Input[str]
    log_retention_days: int = 30

    def __post_init__(self) -> None:
        if not self.actions:
            raise ValueError("RegionActionsArgs: a stack without outbox pipes or DNS failover has no region actions")
        for action in self.actions:
            function_name(self.name_prefix, action)

    @property
    def actions(self) -> tuple[str, ...]:
        return (OUTBOX_ACTIONS if self.pipe_names else ()) + (
            TRAFFIC_ACTIONS if self.traffic_gate_open is not None else ())


class RegionActions(pulumi.ComponentResource):
    function_arns: pulumi.Output[dict[str, str]]
    """Action (start-outbox, stop-outbox, open-traffic, close-traffic) -> this region's function ARN."""
    gate_health_check_id: pulumi.Output[str | None]
    """The traffic gate the failover record requires (None without DNS failover)."""

    def __init__(self, name: str, args: RegionActionsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        gate: route53.HealthCheck | None = None
        if args.traffic_gate_open is not None:
            gate = route53.HealthCheck(
                f"{name}-traffic-gate", type="CALCULATED", child_health_threshold=0,
                invert_healthcheck=not args.traffic_gate_open,
                tags={"Name": f"{args.name_prefix}-traffic-gate"},
                # Only the Region switch plan opens and closes the gate; a deployment never moves traffic.
                opts=pulumi.ResourceOptions(parent=self, ignore_changes=["invertHealthcheck"]))
        functions = tuple(function_name(args.name_prefix, action) for action in args.actions)
        boundary_document = pulumi.Output.all(args.account_id, gate.id if gate else None).apply(
            lambda v: json.dumps(role_policy(args.region, v[0], functions, args.pipe_names, v[1])))
        # The boundary is the role's own document: nothing this role may do lies outside these resources.
        # Named in the platform boundary family `<environment>-<region>-boundary-*`, the only boundaries the
        # deploy role may put on the roles it creates (bootstrap/delivery_access.py).
        boundary = iam.Policy(f"{name}-boundary", name=f"{args.environment}-{args.region}-boundary-region-actions",
                              description="Boundary of the Region switch actions: this stack's pipes and gate",
                              policy=boundary_document, opts=child)
        role = iam.Role(f"{name}-role", description=f"Lambda {args.name_prefix} Region switch actions",
                        assume_role_policy=json.dumps(trust_policy()), permissions_boundary=boundary.arn,
                        opts=child)
        policy = iam.RolePolicy(f"{name}-role-policy", role=role.id, policy=boundary_document, opts=child)
        arns: dict[str, pulumi.Output[str]] = {}
        for action, fn_name in zip(args.actions, functions, strict=True):
            logs = cloudwatch.LogGroup(f"{name}-{action}-logs", name=f"/aws/lambda/{fn_name}",
                                       retention_in_days=args.log_retention_days, kms_key_id=args.kms_key_arn,
                                       opts=child)
            variables: dict[str, pulumi.Input[str]] = {ENV_ACTION: action}
            if action in OUTBOX_ACTIONS:
                variables[ENV_PIPES] = json.dumps(sorted(args.pipe_names))
            elif gate is not None:
                variables[ENV_GATE] = gate.id
            function = lambda_.Function(
                f"{name}-{action}", name=fn_name, role=role.arn, runtime=RUNTIME, architectures=[ARCHITECTURE],
                handler=HANDLER, memory_size=MEMORY_MB, timeout=TIMEOUT_SECONDS,
                code=pulumi.AssetArchive({HANDLER_FILE.name: pulumi.FileAsset(str(HANDLER_FILE))}),
                environment={"variables": variables},
                logging_config={"log_format": "Text", "log_group": logs.name},
                description=f"Region switch action: {action} in this region",
                opts=pulumi.ResourceOptions(parent=self, depends_on=[logs, policy]))
            arns[action] = function.arn
        self.function_arns = pulumi.Output.all(**arns) if arns else pulumi.Output.from_input({})
        self.gate_health_check_id = gate.id if gate is not None else pulumi.Output.from_input(None)
        self.register_outputs({"functionArns": self.function_arns, "gateHealthCheckId": self.gate_health_check_id})
