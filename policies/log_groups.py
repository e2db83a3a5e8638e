"""CloudWatch log groups expire their data and are encrypted with a customer-managed KMS key.

Unknown values: ``retentionInDays`` is a literal in any sane program; unknown is reported as
unverifiable. An unknown ``kmsKeyId`` is the ARN of a key the program creates and counts as set.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .framework import Finding, PolicySpec, ResourceView
from .values import is_set, is_unknown

LOG_GROUP = frozenset({"aws:cloudwatch/logGroup:LogGroup"})


def check_retention(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    retention = resource.props.get("retentionInDays")
    maximum = config["maxRetentionDays"]
    if is_unknown(retention):
        return [Finding("retentionInDays is unknown during preview and cannot be verified; use a literal number "
                        "of days.")]
    if not isinstance(retention, (int, float)) or retention <= 0:
        return [Finding(f"retentionInDays is {retention!r}, so logs are kept (and billed) forever. Set "
                        "retention_in_days (e.g. 30 for staging, 365 for prod).")]
    if maximum is not None and retention > float(maximum):
        return [Finding(f"retentionInDays is {retention:g}, above the allowed {float(maximum):g}. Lower "
                        "retention_in_days.")]
    return []


def check_kms(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    key = resource.props.get("kmsKeyId")
    if is_set(key):
        return []
    return [Finding("kmsKeyId is not set, so the logs (which may contain request data) are encrypted only with a "
                    "CloudWatch-owned key you cannot audit or revoke. Set kms_key_id=<customer-managed key ARN>; "
                    "the key policy must allow logs.<region>.amazonaws.com.")]


LOG_GROUP_RETENTION = PolicySpec(
    name="log-group-retention",
    description="CloudWatch log groups have a finite retention period.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.LOW,
    remediation="Set retention_in_days on aws.cloudwatch.LogGroup.",
    unknowns="An unknown retentionInDays is reported as unverifiable.",
    check=check_retention,
    resource_types=LOG_GROUP,
    config={
        "maxRetentionDays": {"type": ["number", "null"], "default": None,
                             "description": "Optional upper bound on retentionInDays (null = no bound)."},
    },
)

LOG_GROUP_KMS = PolicySpec(
    name="log-group-kms",
    description="CloudWatch log groups are encrypted with a customer-managed KMS key.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    remediation="Set kms_key_id on aws.cloudwatch.LogGroup to a key whose policy allows the CloudWatch Logs service.",
    unknowns="An unknown kmsKeyId counts as set.",
    check=check_kms,
    resource_types=LOG_GROUP,
)
