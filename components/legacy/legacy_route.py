"""Strangler fig: existing Lambda functions behind the platform's ALB while services replace them.

`LegacyFunction` puts one existing function behind the ALB: a Lambda target group, the invoke permission
for Elastic Load Balancing scoped to that target group, and the attachment. The ALB's default action can
forward to it (the legacy API answers what no service routes yet), and a migrating service splits its
route between it and ECS (`LegacySplit`).

How the split works with ECS's canary (docs/strangler-fig.md has the reasoning and sources): ECS owns the
forward action of a service's production listener rule and rewrites it to its blue/green pair on every
deployment, so the Lambda cannot be a third target group there. A service whose stack splits its route
(ECS weight below 100) gets its own weighted rule in front of the production rule (priority - 1, same
paths): ECS weight to the service's primary target group, the rest to the function. That target group
must hold the live tasks at all times, so while split the service deploys ROLLING (circuit breaker and
alarm rollback) on it; the weight itself is the traffic canary. At weight 100 the rule is gone and the
service deploys with ECS's canary on its production rule again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws.ecs as ecs
import pulumi_aws.lambda_ as lambda_
import pulumi_aws.lb as lb

from components.core.validation import TARGET_GROUP_NAME

COMPONENT_TYPE = "microservices:platform:LegacyFunction"
# Unqualified function ARN (no version or alias): the ALB invokes $LATEST, as the existing API Gateway or
# ALB integration of the legacy system does. https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html
FUNCTION_ARN = re.compile(r"^arn:aws:lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):function:"
                          r"(?P<name>[A-Za-z0-9_-]{1,64})$")
LEGACY_NAME = re.compile(r"^[a-z](?:[a-z0-9-]{0,14}[a-z0-9])?$")
ALB_PRINCIPAL = "elasticloadbalancing.amazonaws.com"
# A forward action takes at most 5 target groups, each weighted 0-999; weights here are percentages.
# https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupTuple.html
MAX_WEIGHT = 100
# While split, ECS replaces tasks in place: the circuit breaker stops a failing rollout and rolls it back,
# and the service's alarms roll back too. Rolling keeps the live tasks in the primary target group, which is
# the one the split rule forwards to. https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html
ROLLING_DEPLOYMENT: ecs.ServiceDeploymentConfigurationArgsDict = {"strategy": "ROLLING"}
ROLLING_CIRCUIT_BREAKER: ecs.ServiceDeploymentCircuitBreakerArgsDict = {"enable": True, "rollback": True}


def function_arn_problem(arn: str, region: str, account_id: str | None = None) -> str | None:
    match = FUNCTION_ARN.match(arn) if isinstance(arn, str) else None
    if match is None:
        return ("must be an unqualified Lambda function ARN, "
                "arn:aws:lambda:<region>:<12-digit account>:function:<name>")
    if match["region"] != region:
        return f"is in {match['region']}; an ALB invokes functions of its own region ({region}) only"
    if account_id is not None and match["account"] != account_id:
        return f"is in account {match['account']}, not the stack's account {account_id}"
    return None


def legacy_name_problem(name: str) -> str | None:
    if not isinstance(name, str) or not LEGACY_NAME.fullmatch(name):
        return ("a legacy function name is 1-16 lowercase letters, digits or hyphens, starting with a letter "
                "(the target group '<environment>-legacy-<name>' stays within 32 characters)")
    return None


def weight_problem(weight: int) -> str | None:
    if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= MAX_WEIGHT:
        return f"an ECS weight is a whole percentage within 0..{MAX_WEIGHT}"
    return None


def _raise(problem: str | None, what: str) -> None:
    if problem:
        raise ValueError(f"{what} {problem}")


@dataclass(frozen=True)
class LegacyFunctionArgs:
    environment: str
    region: str
    name: str                       # the logical name the catalog and stack config use
    function_arn: str
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _raise(legacy_name_problem(self.name), f"legacy function {self.name!r}:")
        _raise(function_arn_problem(self.function_arn, self.region), f"legacy function {self.name!r} ARN")
        if not TARGET_GROUP_NAME.match(self.target_group_name):
            raise ValueError(f"target group name {self.target_group_name!r} exceeds 32 characters")

    @property
    def target_group_name(self) -> str:
        return f"{self.environment}-legacy-{self.name}"


class LegacyFunction(pulumi.ComponentResource):
    target_group_arn: pulumi.Output[str]
    """The Lambda target group listener rules and the default action forward to."""
    function_arn: pulumi.Output[str]
    """The existing function the ALB invokes (not managed here)."""

    def __init__(self, name: str, args: LegacyFunctionArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(COMPONENT_TYPE, name, None, opts)
        tags = {**args.tags, "legacy-function": args.name}
        # Health checks of a Lambda target group invoke the function; the legacy API has no health route
        # and the ALB forwards to a Lambda target group whatever its health, so they stay off.
        self.target_group = lb.TargetGroup(
            f"{name}-tg", name=args.target_group_name, target_type="lambda",
            lambda_multi_value_headers_enabled=False, health_check={"enabled": False}, tags=tags,
            opts=pulumi.ResourceOptions(parent=self))
        # Only this target group may invoke the function: source_arn is the target group ARN.
        # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html
        self.permission = lambda_.Permission(
            f"{name}-invoke", statement_id=f"alb-{args.target_group_name}", action="lambda:InvokeFunction",
            function=args.function_arn, principal=ALB_PRINCIPAL, source_arn=self.target_group.arn,
            opts=pulumi.ResourceOptions(parent=self))
        # Registering the function fails unless the ALB may already invoke it.
        self.attachment = lb.TargetGroupAttachment(
            f"{name}-attachment", target_group_arn=self.target_group.arn, target_id=args.function_arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.permission]))
        self.target_group_arn = self.target_group.arn
        self.function_arn = pulumi.Output.from_input(args.function_arn)
        self.register_outputs({"targetGroupArn": self.target_group_arn, "functionArn": self.function_arn})


@dataclass(frozen=True)
class LegacySplit:
    """A service's route split between ECS and the legacy function it replaces, in one stack."""

    function_name: str
    target_group_arn: pulumi.Input[str]
    ecs_weight: int
    # Just in front of the service's production rule, so it sees the service's paths first.
    priority: int

    def __post_init__(self) -> None:
        _raise(weight_problem(self.ecs_weight), f"legacy split for {self.function_name!r}:")
        if self.ecs_weight == MAX_WEIGHT:
            raise ValueError("an ECS weight of 100 is no split: leave the split out and ECS's canary owns the route")
        if not 1 <= self.priority <= 50000:
            raise ValueError(f"listener rule priority {self.priority} must be within 1..50000")


def forward_to(target_group_arn: pulumi.Input[str]) -> lb.ListenerDefaultActionArgsDict:
    """A listener action that sends everything to one target group (e.g. the default action to a Lambda)."""
    return {"type": "forward", "target_group_arn": target_group_arn}


def split_action(split: LegacySplit, ecs_target_group_arn: pulumi.Input[str]) -> lb.ListenerRuleActionArgsDict:
    return {"type": "forward", "forward": {"target_groups": [
        {"arn": ecs_target_group_arn, "weight": split.ecs_weight},
        {"arn": split.target_group_arn, "weight": MAX_WEIGHT - split.ecs_weight}]}}
