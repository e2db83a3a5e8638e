"""No attachment of administrator-equivalent managed policies.

Looks at every way the program can attach a managed policy: role/user/group policy attachments,
``aws:iam/policyAttachment``, the ``*PolicyAttachmentsExclusive`` resources, a role's
``managedPolicyArns`` and IAM Identity Center permission-set attachments. The policy name (last path
segment of the ARN, so ``job-function/SystemAdministrator`` is ``SystemAdministrator``) is matched,
case-insensitively, against the configurable glob list ``forbiddenPolicyNames``, whose default is
ADMIN_EQUIVALENT: every AWS managed policy family that grants administrator-level power, with the
reason each is there. ``iam-role-permissions-boundary`` uses the same list for boundaries.

Unknown values: an unknown ARN (a customer-managed policy the program creates, whose document
``no-wildcard-iam`` judges) is reported as deferred to ``pulumi up``, which judges the known ARN.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .framework import Finding, PolicySpec, ResourceView, deferred
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
    "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment": "managedPolicyArn",
}

# AWS managed policies that amount to administrator access (name glob -> why).
ADMIN_EQUIVALENT: dict[str, str] = {
    "AdministratorAccess": "allows every action on every resource",
    "AdministratorAccess-*": "administers a whole service (Amplify, Elastic Beanstalk) including the IAM roles it creates",
    "PowerUserAccess": "every action outside IAM/Organizations; with any existing role to pass it reaches admin",
    "IAMFullAccess": "iam:* lets the holder grant itself anything",
    "*FullAccess": "service-wide write, typically with iam:PassRole or the service's own IAM actions "
                   "(IAMFullAccess, AWSLambda_FullAccess, AmazonEC2FullAccess, AWSOrganizationsFullAccess, ...)",
    "*AdminAccess": "service administrator policies (AWSCodeBuildAdminAccess, ...) with iam:PassRole",
    "*Administrator": "job-function and Identity Center administrator policies (SystemAdministrator, "
                      "NetworkAdministrator, DatabaseAdministrator, AWSSSOMasterAccountAdministrator, ...)",
    "*PowerUser": "service power-user policies: service-wide write, e.g. AWSKeyManagementServicePowerUser may change "
                  "every key's policy, AmazonEC2ContainerRegistryPowerUser may push to every repository",
    "*PowerUserAccess": "power-user access to a whole service or account",
    # AWS managed policies whose names no glob above matches but which grant administrator-level power.
    "AmazonEC2RoleforSSM": "s3:*, ssm:* and more on every resource (deprecated by AWS for that reason)",
    "AmazonElasticMapReduceRole": "iam:PassRole on every role together with ec2:RunInstances: any role's power",
    "AWSCodeStarServiceRole": "creates and attaches IAM policies and roles for projects",
}


def policy_name_from_arn(arn: str) -> str:
    return arn.strip().rsplit("/", 1)[-1]


def forbidden_match(arn: str, forbidden: list[str]) -> str | None:
    """The first glob of ``forbidden`` the ARN's policy name matches (case-insensitively), or None."""
    name = policy_name_from_arn(arn).lower()
    return next((pattern for pattern in forbidden if fnmatch.fnmatchcase(name, pattern.lower())), None)


def check_managed_policies(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    prop = ARN_PROPERTIES[resource.type]
    forbidden = [str(p) for p in config["forbiddenPolicyNames"]]
    value = resource.props.get(prop)
    if is_unknown(value):
        return [deferred(f"{prop} is unknown during preview")]
    findings = []
    for arn in as_list(value):
        if is_unknown(arn):
            findings.append(deferred(f"a policy ARN in {prop} is unknown during preview"))
            continue
        if not isinstance(arn, str):
            continue
        matched = forbidden_match(arn, forbidden)
        if matched:
            why = ADMIN_EQUIVALENT.get(matched, "it is on the forbidden list")
            findings.append(Finding(
                f"{prop} attaches '{arn}' (matches forbidden '{matched}': {why}), which grants far more than a "
                "workload needs. Attach a customer-managed policy with the specific actions and resources instead."))
    return findings


NO_ADMIN_MANAGED_POLICIES = PolicySpec(
    name="no-admin-managed-policies",
    description="No administrator-equivalent managed policy (administrator, power-user, full-access, service or "
                "job-function administrator) is attached to a role, user, group or permission set.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    remediation="Replace the managed policy with a least-privilege customer-managed or inline policy.",
    unknowns="An unknown policy ARN is deferred to `pulumi up` (reported not-applicable).",
    check=check_managed_policies,
    resource_types=frozenset(ARN_PROPERTIES),
    config={
        "forbiddenPolicyNames": {
            "type": "array", "items": {"type": "string"}, "default": list(ADMIN_EQUIVALENT),
            "description": "Case-insensitive globs of managed policy names that must not be attached.",
        },
    },
)
