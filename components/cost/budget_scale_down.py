"""BudgetScaleDown: when staging's budget is breached (ACTUAL 100 %), cap every service at its minimum.

AWS Budgets actions cannot scale an ECS service (they apply an IAM policy or SCP, or stop EC2/RDS
instances), so the budget's ACTUAL 100 % notification goes to a dedicated SNS topic whose only
subscriber is a small Lambda function (`budget_scale_down_handler.py`). It sets each service's scalable
target MaxCapacity to its MinCapacity; Application Auto Scaling then scales the service in. `pulumi up`
restores the configured maximum. Rationale and limits: docs/cost-model.md.

The topic is encrypted with the platform key: the key policy admits Budgets for this topic
(`kms_key_policy(..., budget_scale_down_name=...)`), the permissions boundary admits what the
function's role does (`boundary_statements`). The documents are pure functions so that the platform,
which exists before the services, can name the topic and function by their names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws.cloudwatch as cloudwatch
import pulumi_aws.iam as iam
import pulumi_aws.lambda_ as lambda_
import pulumi_aws.sns as sns

# The handler is the one home of the names it reads (it ships alone, so it cannot import from here).
from components.core import outputs
from components.core.validation import LAMBDA_FUNCTION_NAME
from components.cost.budget_scale_down_handler import DIMENSION as ECS_DIMENSION
from components.cost.budget_scale_down_handler import ENV_CLUSTER, ENV_SERVICES, ENV_TOPIC
from components.cost.budget_scale_down_handler import NAMESPACE as ECS_NAMESPACE
from components.observability.alert_policies import budgets_publish_statement, deny_publish_without_tls

COMPONENT_TYPE = "microservices:platform:BudgetScaleDown"
HANDLER_FILE = Path(__file__).with_name("budget_scale_down_handler.py")
HANDLER = "budget_scale_down_handler.handler"
# Lambda supports python3.13 on arm64 (Graviton: cheaper per GB-second than x86_64).
RUNTIME = "python3.13"
ARCHITECTURE = "arm64"
# Two Application Auto Scaling calls per service: seconds, not minutes.
TIMEOUT_SECONDS = 60
MEMORY_MB = 128


def log_group_name(function_name: str) -> str:
    """Lambda's default log group of a function; created by the component, never implicitly."""
    return f"/aws/lambda/{function_name}"


def boundary_statements(account_id: str, region: str, environment: str, function_name: str,
                        kms_key_arn: str | None = None) -> list[dict[str, Any]]:
    """What the platform's permissions boundary must admit for the scale-down function's role.

    The scalable targets and services do not exist when the boundary is written (a target's ARN ends in a
    random id, a service's follows the cluster's generated name), so the boundary holds targets to this
    environment's tag (the provider's default tags put `environment` on every target), the ECS namespace and
    dimension, and services to this environment's clusters; the role's own policy names the exact ARNs.
    """
    arn = f"{region}:{account_id}"
    return [
        {"Sid": "BudgetScaleDownCapsOwnServices", "Effect": "Allow",
         "Action": ["application-autoscaling:RegisterScalableTarget"],
         "Resource": f"arn:aws:application-autoscaling:{arn}:scalable-target/*",
         "Condition": {"StringEquals": {"aws:ResourceTag/environment": environment,
                                        "application-autoscaling:service-namespace": ECS_NAMESPACE,
                                        "application-autoscaling:scalable-dimension": ECS_DIMENSION}}},
        {"Sid": "BudgetScaleDownUpdatesOwnServices", "Effect": "Allow",
         "Action": ["ecs:DescribeServices", "ecs:UpdateService"],
         "Resource": f"arn:aws:ecs:{arn}:service/{environment}-*/*"},
        # DescribeScalableTargets has no resource-level permissions and no condition keys.
        {"Sid": "BudgetScaleDownReadsScalableTargets", "Effect": "Allow",
         "Action": ["application-autoscaling:DescribeScalableTargets"], "Resource": "*"},
        {"Sid": "BudgetScaleDownWritesOwnLogs", "Effect": "Allow",
         "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": f"arn:aws:logs:{arn}:log-group:{log_group_name(function_name)}:*"},
        # A failed invocation goes to the stack's alert topic (`<stack>-alerts`, the environment's prefix).
        {"Sid": "BudgetScaleDownDeadLettersToAlerts", "Effect": "Allow", "Action": ["sns:Publish"],
         "Resource": f"arn:aws:sns:{arn}:{environment}*-alerts"},
        *([{"Sid": "BudgetScaleDownEncryptsDeadLettersThroughSns", "Effect": "Allow",
            "Action": DEAD_LETTER_KEY_ACTIONS, "Resource": kms_key_arn,
            "Condition": {"StringEquals": {"kms:ViaService": f"sns.{region}.amazonaws.com"}}}]
          if kms_key_arn is not None else []),
    ]


# Publishing to a topic encrypted with a customer managed key (SNS developer guide, sns-key-management.html).
DEAD_LETTER_KEY_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"]
# Active tracing: Lambda sends the segments with the execution role (no resource-level permission).
TRACING_ACTIONS = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]


def role_policy(target_arns: Sequence[str], service_arns: Sequence[str], log_group_arn: str,
                dead_letter_topic_arn: str | None = None, kms_key_arn: str | None = None) -> dict[str, Any]:
    """The function's own permissions: cap these scalable targets, nothing else.

    RegisterScalableTarget on an ECS target also needs ecs:DescribeServices and ecs:UpdateService on the
    service (Application Auto Scaling user guide, "Permissions required for API actions on target
    services and CloudWatch"); both are held to this stack's services.
    """
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "CapOwnScalableTargets", "Effect": "Allow",
         "Action": ["application-autoscaling:RegisterScalableTarget"], "Resource": sorted(target_arns),
         "Condition": {"StringEquals": {"application-autoscaling:service-namespace": ECS_NAMESPACE,
                                        "application-autoscaling:scalable-dimension": ECS_DIMENSION}}},
        {"Sid": "UpdateOwnServices", "Effect": "Allow", "Action": ["ecs:DescribeServices", "ecs:UpdateService"],
         "Resource": sorted(service_arns)},
        {"Sid": "ReadScalableTargets", "Effect": "Allow",
         "Action": ["application-autoscaling:DescribeScalableTargets"], "Resource": "*"},
        {"Sid": "WriteOwnLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": f"{log_group_arn}:*"},
        {"Sid": "WriteTraces", "Effect": "Allow", "Action": TRACING_ACTIONS, "Resource": "*"},
        *([{"Sid": "DeadLetterToAlertTopic", "Effect": "Allow", "Action": ["sns:Publish"],
            "Resource": dead_letter_topic_arn},
           {"Sid": "EncryptDeadLettersThroughSns", "Effect": "Allow", "Action": DEAD_LETTER_KEY_ACTIONS,
            "Resource": kms_key_arn, "Condition": {"StringEquals": {
                "kms:ViaService": f"sns.{dead_letter_topic_arn.split(':')[3]}.amazonaws.com"}}}]
          if dead_letter_topic_arn is not None and kms_key_arn is not None else []),
    ]}


def trust_policy() -> dict[str, Any]:
    """The execution-role trust exactly as the Lambda developer guide documents it (no condition keys: it
    documents none for execution roles, and one Lambda does not send would leave the function without
    credentials). Only a principal of this account allowed iam:PassRole can hand the role to a function."""
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def scale_down_topic_policy(topic: str, account_id: str) -> dict[str, Any]:
    """Only this account's budgets publish to the scale-down topic; TLS only."""
    return {"Version": "2012-10-17", "Statement": [
        budgets_publish_statement(topic, account_id), deny_publish_without_tls(topic)]}


@dataclass(frozen=True)
class ScaledService:
    """One service the function caps: its ECS name and ARN, its scalable target's ARN and its minimum."""

    service_name: pulumi.Input[str]
    service_arn: pulumi.Input[str]
    target_arn: pulumi.Input[str]
    min_tasks: int


@dataclass(frozen=True)
class BudgetScaleDownArgs:
    """name: the topic's and the function's name (unique per account and region), e.g.
    `staging-budget-scale-down`; it must equal the name given to the platform (key policy, boundary).
    kms_key_arn / permissions_boundary_arn: the platform's key and boundary (PlatformRefs).
    """

    name: str
    account_id: pulumi.Input[str]
    cluster_name: pulumi.Input[str]
    services: Mapping[str, ScaledService]
    kms_key_arn: pulumi.Input[str]
    permissions_boundary_arn: pulumi.Input[str]
    # The stack's alert topic (it has subscribers): an invocation that still fails after Lambda's two
    # retries lands there as the function's dead letter, so a scale-down that did not happen pages.
    dead_letter_topic_arn: pulumi.Input[str] | None = None
    log_retention_days: int = 30

    def __post_init__(self) -> None:
        problems = []
        # The topic shares the function's name.
        if not LAMBDA_FUNCTION_NAME.fullmatch(self.name):
            problems.append(f"name {self.name!r} must be 1-64 letters, digits, '_' or '-' (Lambda function name)")
        if not self.services:
            problems.append("at least one service to scale down")
        low = [name for name, service in self.services.items() if service.min_tasks < 0]
        if low:
            problems.append(f"negative minimum task count for {low}")
        if problems:
            raise ValueError("BudgetScaleDownArgs: " + "; ".join(problems))


class BudgetScaleDown(pulumi.ComponentResource):
    topic_arn: pulumi.Output[str]
    """The topic the budget's ACTUAL 100 % notification goes to (its one SNS subscriber)."""
    function_arn: pulumi.Output[str]
    """The Lambda function that caps every service at its minimum."""

    def __init__(self, name: str, args: BudgetScaleDownArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(COMPONENT_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        topic = sns.Topic(f"{name}-topic", name=args.name, kms_master_key_id=args.kms_key_arn, opts=child)
        sns.TopicPolicy(f"{name}-topic-policy", arn=topic.arn, policy=pulumi.Output.all(
            topic.arn, args.account_id).apply(lambda v: json.dumps(scale_down_topic_policy(v[0], v[1]))), opts=child)

        log_group = cloudwatch.LogGroup(
            f"{name}-logs", name=log_group_name(args.name), retention_in_days=args.log_retention_days,
            kms_key_id=args.kms_key_arn, opts=child)
        role = iam.Role(
            f"{name}-role", description=f"Lambda {args.name}: caps this stack's services at their minimum",
            assume_role_policy=json.dumps(trust_policy()),
            permissions_boundary=args.permissions_boundary_arn, opts=child)
        services = list(args.services.values())
        policy = iam.RolePolicy(
            f"{name}-role-policy", role=role.id, policy=outputs.all_values(
                [s.target_arn for s in services], [s.service_arn for s in services], log_group.arn,
                args.dead_letter_topic_arn, args.kms_key_arn).apply(
                    lambda v: json.dumps(role_policy(v[0], v[1], v[2], v[3], v[4]))), opts=child)

        minimums = outputs.all_values(*[s.service_name for s in services]).apply(
            lambda names: json.dumps(dict(zip(names, [s.min_tasks for s in services], strict=False)), sort_keys=True))
        function = lambda_.Function(
            f"{name}-function", name=args.name, role=role.arn, runtime=RUNTIME, architectures=[ARCHITECTURE],
            handler=HANDLER, memory_size=MEMORY_MB, timeout=TIMEOUT_SECONDS,
            code=pulumi.AssetArchive({HANDLER_FILE.name: pulumi.FileAsset(str(HANDLER_FILE))}),
            environment={"variables": {ENV_CLUSTER: args.cluster_name, ENV_SERVICES: minimums,
                                       ENV_TOPIC: topic.arn}},
            logging_config={"log_format": "Text", "log_group": log_group.name},
            tracing_config={"mode": "Active"},
            dead_letter_config={"target_arn": args.dead_letter_topic_arn} if args.dead_letter_topic_arn else None,
            description="Caps the stack's services at their minimum when the budget is breached",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group, policy]))
        # SNS may invoke the function for this topic only.
        permission = lambda_.Permission(
            f"{name}-invoke", action="lambda:InvokeFunction", function=function.name,
            principal="sns.amazonaws.com", source_arn=topic.arn, opts=child)
        sns.TopicSubscription(f"{name}-subscription", topic=topic.arn, protocol="lambda", endpoint=function.arn,
                              opts=pulumi.ResourceOptions(parent=self, depends_on=[permission]))

        self.topic_arn = topic.arn
        self.function_arn = function.arn
        self.register_outputs({"topicArn": self.topic_arn, "functionArn": self.function_arn})

