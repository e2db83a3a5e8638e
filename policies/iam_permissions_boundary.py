"""Every IAM role carries a permissions boundary, and no boundary is itself an admin policy.

A boundary caps what a role (or user) may do; a boundary that is an administrator-equivalent managed
policy (the ADMIN_EQUIVALENT list of ``iam_managed_policies``, or the knob ``forbiddenPolicyNames``
of this policy) caps nothing.

Unknown values: an unknown ``permissionsBoundary`` is set (the ARN of a policy the program creates),
so the role has a boundary; whether it is admin-equivalent is deferred to ``pulumi up``, which judges
the known ARN (the policy's document is judged by ``no-wildcard-iam``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .framework import Finding, PolicySpec, ResourceView, deferred
from .iam_managed_policies import ADMIN_EQUIVALENT, forbidden_match
from .values import is_unknown

ROLE = "aws:iam/role:Role"


def check_permissions_boundary(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    boundary = resource.props.get("permissionsBoundary")
    if is_unknown(boundary):
        return [deferred("permissionsBoundary is unknown during preview, so whether it is an admin policy")]
    if boundary is None or (isinstance(boundary, str) and not boundary.strip()):
        if resource.type != ROLE:
            return []
        return [Finding("the role has no permissionsBoundary, so anything allowed to attach policies to it can "
                        "escalate its privileges. Set permissions_boundary=<boundary policy ARN> on the Role.")]
    matched = forbidden_match(str(boundary), [str(p) for p in config["forbiddenPolicyNames"]])
    if matched:
        return [Finding(f"permissionsBoundary is '{boundary}', an administrator-equivalent policy (matches "
                        f"'{matched}': {ADMIN_EQUIVALENT.get(matched, 'it is on the forbidden list')}), so it caps "
                        "nothing. Use the platform's boundary policy, which names this environment's resources.")]
    return []


IAM_ROLE_PERMISSIONS_BOUNDARY = PolicySpec(
    name="iam-role-permissions-boundary",
    description="Every IAM role has a permissions boundary, and no role or user boundary is an "
                "administrator-equivalent policy.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation="Pass permissions_boundary=<ARN of the platform's boundary policy> to aws.iam.Role.",
    unknowns="An unknown boundary ARN counts as present; whether it is admin-equivalent is deferred to `pulumi up`.",
    check=check_permissions_boundary,
    resource_types=frozenset({ROLE, "aws:iam/user:User"}),
    config={
        "forbiddenPolicyNames": {
            "type": "array", "items": {"type": "string"}, "default": list(ADMIN_EQUIVALENT),
            "description": "Case-insensitive globs of policy names a boundary must not be.",
        },
    },
)
