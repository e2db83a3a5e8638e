"""Resources of the ``aws-native`` provider are refused, because this pack cannot judge them.

Every check of the pack reads the property names and shapes of the ``aws`` provider (pulumi-aws). The
``aws-native`` provider (AWS Cloud Control) models the same AWS resources with other names and shapes
(``AWS::IAM::Role`` as ``aws-native:iam:Role`` with ``policies``, tags as a list ...), so an aws-native
resource would pass every check unread: an IAM role without a boundary, a world-open security group or
a log group without retention would all go through. Until the pack judges aws-native types, each one
needs an acknowledged exception with its reason (see the README), or the aws-provider equivalent.

Unknown values: none matter; the policy judges the resource type alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .framework import Finding, PolicySpec, ResourceView


def check_aws_native(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    if not resource.type.startswith("aws-native:"):
        return []
    return [Finding("is an aws-native (Cloud Control) resource, whose properties none of this pack's checks read, so "
                    "IAM, network, tag and logging guardrails would pass it unjudged. Use the aws provider's resource "
                    "type, or acknowledge this one with a policy exception stating why it is safe.")]


NO_UNJUDGED_AWS_NATIVE = PolicySpec(
    name="no-unjudged-aws-native",
    description="No aws-native resources: the pack's checks read the aws provider's schema and cannot judge them.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation="Use the equivalent aws provider resource, or add an exception with the reason the resource is safe.",
    unknowns="Judged from the resource type only.",
    check=check_aws_native,
)
