"""No AWS App Mesh resources: App Mesh was shut down on 2026-09-30.

Unknown values: none matter; the policy judges the resource type (``aws:appmesh/*``) alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .framework import Finding, PolicySpec, ResourceView


def check_app_mesh(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    if not resource.type.startswith("aws:appmesh/"):
        return []
    return [Finding("AWS App Mesh was shut down on 2026-09-30; this resource cannot work. Replace the mesh with "
                    "ECS Service Connect (service_connect_configuration on aws.ecs.Service, TLS via AWS Private CA).")]


NO_APP_MESH = PolicySpec(
    name="no-app-mesh",
    description="No AWS App Mesh resources (App Mesh was shut down on 2026-09-30).",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation="Use ECS Service Connect instead of App Mesh.",
    unknowns="Judged from the resource type only.",
    check=check_app_mesh,
)
