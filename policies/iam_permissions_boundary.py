"""Every IAM role carries a permissions boundary.

Unknown values: an unknown ``permissionsBoundary`` is the ARN of a policy created by the program
(present, just not known yet) and is accepted; only an absent or empty one is a violation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .framework import Finding, PolicySpec, ResourceView


def check_permissions_boundary(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    boundary = resource.props.get("permissionsBoundary")
    if boundary is None or (isinstance(boundary, str) and not boundary.strip()):
        return [Finding("the role has no permissionsBoundary, so anything allowed to attach policies to it can "
                        "escalate its privileges. Set permissions_boundary=<boundary policy ARN> on the Role.")]
    return []


IAM_ROLE_PERMISSIONS_BOUNDARY = PolicySpec(
    name="iam-role-permissions-boundary",
    description="Every IAM role has a permissions boundary.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation="Pass permissions_boundary=<ARN of the platform's boundary policy> to aws.iam.Role.",
    unknowns="An unknown boundary ARN counts as present.",
    check=check_permissions_boundary,
    resource_types=frozenset({"aws:iam/role:Role"}),
)
