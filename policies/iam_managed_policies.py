"""No attachment of administrator or full-access managed policies.

Looks at every way the program can attach a managed policy: role/user/group policy attachments,
``aws:iam/policyAttachment``, the ``*PolicyAttachmentsExclusive`` resources and a role's
``managedPolicyArns``. The policy name (last path segment of the ARN) is matched against the
configurable glob list ``forbiddenPolicyNames``.

Unknown values: an unknown ARN comes from a resource of this program (AWS managed policies are
literal ARNs), i.e. a customer-managed ``aws:iam/policy:Policy`` whose document
``no-wildcard-iam`` judges; it is therefore accepted here.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .framework import Finding, PolicySpec, ResourceView
from .values import as_list, is_unknown

ARN_PROPERTIES: dict[str, str] = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "policyArn",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": "policyArn",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": "policyArn",
    "aws:iam/policyAttachment:PolicyAttachment": "policyArn",
    "aws:iam/role:Role": "managedPolicyArns",
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": "policyArns",
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive": "policyArns",
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive": "policyArns",
}

DEFAULT_FORBIDDEN = ["AdministratorAccess", "AdministratorAccess-*", "PowerUserAccess", "IAMFullAccess", "*FullAccess"]


def policy_name_from_arn(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def check_managed_policies(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    prop = ARN_PROPERTIES[resource.type]
    forbidden = [str(p) for p in config["forbiddenPolicyNames"]]
    findings = []
    for arn in as_list(resource.props.get(prop)):
        if not isinstance(arn, str) or is_unknown(arn):
            continue
        name = policy_name_from_arn(arn)
        matched = next((pattern for pattern in forbidden if fnmatch.fnmatchcase(name, pattern)), None)
        if matched:
            findings.append(Finding(
                f"{prop} attaches '{arn}' (matches forbidden '{matched}'), which grants far more than a "
                "workload needs. Attach a customer-managed policy with the specific actions and resources instead."))
    return findings


NO_ADMIN_MANAGED_POLICIES = PolicySpec(
    name="no-admin-managed-policies",
    description="No administrator, power-user or full-access managed policy is attached to a role, user or group.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    remediation="Replace the managed policy with a least-privilege customer-managed or inline policy.",
    unknowns="Unknown ARNs are customer-managed policies created by the program and are accepted "
             "(their documents are judged by no-wildcard-iam).",
    check=check_managed_policies,
    resource_types=frozenset(ARN_PROPERTIES),
    config={
        "forbiddenPolicyNames": {
            "type": "array", "items": {"type": "string"}, "default": DEFAULT_FORBIDDEN,
            "description": "Glob patterns of managed policy names that must not be attached.",
        },
    },
)
