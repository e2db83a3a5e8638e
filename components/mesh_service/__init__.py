"""MeshService: one microservice on ECS Fargate behind ECS Service Connect (see component.py)."""

from components.mesh_service.args import (
                                          DEFAULT_SERVICE_CONNECT_INGRESS_PORT,
                                          AlarmThresholds,
                                          DeploymentSettings,
                                          MeshServiceArgs,
                                          ScalingTargets,
                                          ServiceDefinition,
                                          ServiceOperations,
                                          Timeouts,
)
from components.mesh_service.component import COMPONENT_TYPE, MeshService

__all__ = ["COMPONENT_TYPE", "DEFAULT_SERVICE_CONNECT_INGRESS_PORT", "AlarmThresholds", "DeploymentSettings",
           "MeshService", "MeshServiceArgs", "ScalingTargets", "ServiceDefinition", "ServiceOperations", "Timeouts"]
