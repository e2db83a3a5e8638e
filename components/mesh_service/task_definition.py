"""The Fargate task definition: app, tracing sidecar and the sizes `components.mesh_service.sizing` computed."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import pulumi
import pulumi_aws.ecs as ecs

from components.core import outputs
from components.mesh_service import container_definitions as containers
from components.mesh_service.args import MeshServiceArgs
from components.mesh_service.iam import ServiceRoles
from components.mesh_service.sizing import TaskSize


def create_task_definition(name: str, args: MeshServiceArgs, *, size: TaskSize, roles: ServiceRoles,
                           log_group_name: pulumi.Input[str], secret_refs: Mapping[str, pulumi.Input[str]],
                           tags: Mapping[str, str], child: Callable[..., pulumi.ResourceOptions]) -> ecs.TaskDefinition:
    platform, service, operations = args.platform, args.service, args.operations

    def definitions(values: list[Any]) -> str:
        image, log_group, resolved_refs, collector_image = values
        spec = containers.AppContainerSpec(
            service=service.name, environment=platform.environment, region=platform.region, image=image,
            container_port=service.port, health_path=service.health_path,
            cpu=size.app_cpu_limit, memory=size.app_memory_limit, log_group_name=log_group,
            secrets=resolved_refs, tracing_enabled=operations.tracing_enabled,
            trace_sampling_ratio=operations.trace_sampling_ratio,
            http_client_timeout_seconds=operations.timeouts.http_client_seconds,
            service_connect_per_request_timeout_seconds=operations.timeouts.per_request_seconds,
            collector_image=collector_image if operations.tracing_enabled else None,
            sidecar_cpu=size.sidecar_cpu, sidecar_memory=size.sidecar_memory,
            protocol=service.protocol, client=service.client)
        return json.dumps(containers.container_definitions(spec))

    return ecs.TaskDefinition(
        f"{name}-taskdef", family=f"{platform.environment}-{service.name}",
        cpu=str(size.task_cpu), memory=str(size.task_memory), network_mode="awsvpc",
        requires_compatibilities=["FARGATE"],
        runtime_platform={"cpu_architecture": service.architecture, "operating_system_family": "LINUX"},
        execution_role_arn=roles.execution_role.arn, task_role_arn=roles.task_role.arn,
        volumes=containers.task_volumes(),
        container_definitions=outputs.all_values(
            args.image_uri, log_group_name, dict(secret_refs), platform.collector_image_uri).apply(definitions),
        tags=dict(tags), opts=child())
