"""Resources the pack cannot read are refused, unless the config acknowledges them with a reason.

Every check of the pack reads the property names and shapes of the ``aws`` provider (pulumi-aws). Three ways
of creating AWS resources hide them from those checks, so each would pass every guardrail unread (an IAM role
without a boundary, a world-open security group, a log group without retention):

* another AWS provider: ``aws-native`` (AWS Cloud Control) models the same resources with other names and
  shapes (``aws-native:iam:Role`` with ``policies``, tags as a list ...); so does any other package named
  ``aws-*`` / ``aws_*`` (UNREADABLE_PACKAGE);
* ``aws:cloudcontrol/resource:Resource``: any CloudFormation resource type with its properties as a JSON
  ``desiredState`` string;
* templates: ``aws:cloudformation/stack:Stack`` and ``stackSet`` (``templateBody`` / ``templateUrl``), the
  Serverless Application Repository's ``cloudFormationStack`` and Service Catalog's ``provisionedProduct``.

Each is refused (the policy is mandatory) unless the ``acknowledgedTypes`` knob names its type with the reason
it is safe (at least 20 characters), or a policy exception acknowledges the single resource (see the README).

Unknown values: none matter; the policy judges the resource type alone.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .framework import Finding, PolicySpec, ResourceView

# Packages that create AWS resources with another schema than the aws provider's: aws-native, aws_native, awscc...
UNREADABLE_PACKAGE = re.compile(r"^aws(?:[-_].+|cc)$", re.IGNORECASE)
# aws provider types that create resources from a document the pack does not read.
UNREADABLE_TYPES: dict[str, str] = {
    "aws:cloudcontrol/resource:Resource": "creates any CloudFormation resource type from a JSON desiredState",
    "aws:cloudformation/stack:Stack": "creates the resources of a CloudFormation template (templateBody/templateUrl)",
    "aws:cloudformation/stackSet:StackSet": "deploys a CloudFormation template to accounts and regions",
    "aws:cloudformation/stackSetInstance:StackSetInstance": "deploys a stack set's template",
    "aws:cloudformation/stackInstances:StackInstances": "deploys a stack set's template",
    "aws:serverlessrepository/cloudFormationStack:CloudFormationStack": "deploys an application's CloudFormation "
                                                                        "template",
    "aws:servicecatalog/provisionedProduct:ProvisionedProduct": "launches a product's CloudFormation template",
}


def unreadable_reason(resource_type: str) -> str | None:
    """Why the pack cannot read a resource of this type, or None when it can."""
    if resource_type in UNREADABLE_TYPES:
        return UNREADABLE_TYPES[resource_type]
    package = resource_type.split(":", 1)[0]
    if resource_type.startswith("pulumi:") or not UNREADABLE_PACKAGE.match(package):
        return None
    return f"belongs to the '{package}' provider, whose property names and shapes none of this pack's checks read"


def check_unreadable(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    reason = unreadable_reason(resource.type)
    if reason is None:
        return []
    for entry in config["acknowledgedTypes"]:
        if isinstance(entry, Mapping) and fnmatch.fnmatchcase(resource.type, str(entry.get("type", ""))) \
                and len(str(entry.get("reason", "")).strip()) >= 20:
            return []
    return [Finding(f"cannot be judged: it {reason}, so IAM, network, tag and logging guardrails would pass what it "
                    "creates unread. Use the aws provider's resource types, or acknowledge the type in the policy's "
                    "acknowledgedTypes knob (or this resource with a policy exception) stating why it is safe.")]


NO_UNREADABLE_RESOURCES = PolicySpec(
    name="no-unreadable-resources",
    description="No resource the pack cannot read (another AWS provider such as aws-native, Cloud Control resources, "
                "CloudFormation/Service Catalog templates) unless the config acknowledges its type with a reason.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation="Use the equivalent aws provider resource, or acknowledge the type (acknowledgedTypes) or the resource "
                "(exception) with the reason it is safe.",
    unknowns="Judged from the resource type only.",
    check=check_unreadable,
    config={
        "acknowledgedTypes": {
            "type": "array",
            "items": {"type": "object", "properties": {"type": {"type": "string"},
                                                       "reason": {"type": "string", "minLength": 20}},
                      "required": ["type", "reason"]},
            "default": [],
            "description": "Resource types (globs) the pack cannot read that are accepted, each with its reason.",
        },
    },
)
