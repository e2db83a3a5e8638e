"""Application Auto Scaling of a service on CPU and memory (docs/mesh-service.md says why not requests)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pulumi
import pulumi_aws.appautoscaling as appautoscaling
import pulumi_aws.ecs as ecs

from components.core import outputs
from components.mesh_service.args import MeshServiceArgs


def create_autoscaling(name: str, args: MeshServiceArgs, *, ecs_service: ecs.Service, tags: Mapping[str, str],
                       child: Callable[..., pulumi.ResourceOptions]) -> tuple[appautoscaling.Target, list[Any]]:
    scaling = args.operations.scaling
    target = appautoscaling.Target(
        f"{name}-scaling", service_namespace="ecs", scalable_dimension="ecs:service:DesiredCount",
        resource_id=outputs.concat("service/", args.platform.cluster.name, "/", ecs_service.name),
        min_capacity=args.service.min_tasks, max_capacity=args.service.max_tasks, tags=dict(tags), opts=child())

    def tracking(logical: str, metric_type: str, value: float) -> appautoscaling.Policy:
        return appautoscaling.Policy(
            f"{name}-{logical}", policy_type="TargetTrackingScaling",
            resource_id=target.resource_id, scalable_dimension=target.scalable_dimension,
            service_namespace=target.service_namespace,
            target_tracking_scaling_policy_configuration={
                "predefined_metric_specification": {"predefined_metric_type": metric_type}, "target_value": value,
                "scale_in_cooldown": scaling.scale_in_cooldown_seconds,
                "scale_out_cooldown": scaling.scale_out_cooldown_seconds},
            opts=child())

    return target, [tracking("scale-cpu", "ECSServiceAverageCPUUtilization", scaling.cpu_percent),
                    tracking("scale-memory", "ECSServiceAverageMemoryUtilization", scaling.memory_percent)]
