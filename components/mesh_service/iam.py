"""The execution and task roles of one service, each scoped to that service's own resources.

The documents are built by `service_iam` (pure); this module only turns them into resources.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws.iam as iam

from components.core import outputs
from components.mesh_service import service_iam
from components.mesh_service.args import MeshServiceArgs


@dataclass(frozen=True)
class ServiceRoles:
    execution_role: iam.Role
    task_role: iam.Role
    execution_policy: iam.RolePolicy
    task_policy: iam.RolePolicy | None


def create_roles(name: str, args: MeshServiceArgs, *, log_group_name: pulumi.Input[str],
                 parameter_arns: Sequence[pulumi.Input[str]], tags: Mapping[str, str],
                 child: Callable[..., pulumi.ResourceOptions]) -> ServiceRoles:
    platform, service, operations = args.platform, args.service, args.operations
    cluster = outputs.apply(platform.cluster.arn, service_iam.parse_arn)
    account_id = cluster.apply(lambda parts: parts["account"])
    partition = cluster.apply(lambda parts: parts["partition"])

    def trust(conditions: bool) -> pulumi.Output[str]:
        return outputs.all_values(account_id, partition).apply(
            lambda values: json.dumps(service_iam.trust_policy(
                values[0], platform.region, values[1], confused_deputy_conditions=conditions)))

    execution_role = iam.Role(
        f"{name}-execution-role", assume_role_policy=trust(False),
        permissions_boundary=platform.permissions_boundary_arn,
        description=f"ECS task execution role of {platform.environment}/{service.name}", tags=dict(tags),
        opts=child())
    task_role = iam.Role(
        f"{name}-task-role", assume_role_policy=trust(True), permissions_boundary=platform.permissions_boundary_arn,
        description=f"ECS task role of {platform.environment}/{service.name}", tags=dict(tags), opts=child())

    def execution_policy(values: list[Any]) -> str:
        (partition_, account, repository_arn, kms_key_arn, log_group, resolved_secrets, resolved_params,
         collector_image) = values
        secret_manager_arns = [a for a in resolved_secrets if ":secretsmanager:" in a]
        # A `secrets` entry may also point at an SSM SecureString parameter; it is read like config.
        ssm_secret_arns = [a for a in resolved_secrets if ":ssm:" in a]
        return json.dumps(service_iam.execution_role_policy(service_iam.ExecutionRoleScope(
            partition=partition_, region=platform.region, account_id=account, repository_arn=repository_arn,
            log_group_name=log_group, kms_key_arn=kms_key_arn,
            collector_repository_arn=service_iam.repository_arn_of_image(collector_image, partition_)
            if operations.tracing_enabled else None,
            secret_arns=secret_manager_arns, parameter_arns=[*resolved_params, *ssm_secret_arns])))

    execution = iam.RolePolicy(
        f"{name}-execution-policy", role=execution_role.id,
        policy=outputs.all_values(partition, account_id, platform.repository(service.name).arn, platform.kms_key_arn,
                                  log_group_name, list(args.secret_arns.values()), list(parameter_arns),
                                  platform.collector_image_uri).apply(execution_policy),
        opts=child())
    document = service_iam.task_role_policy(operations.tracing_enabled)
    task = None
    if document is not None:
        task = iam.RolePolicy(f"{name}-task-policy", role=task_role.id, policy=json.dumps(document), opts=child())
    return ServiceRoles(execution_role, task_role, execution, task)
