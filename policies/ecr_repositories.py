"""ECR repositories keep image tags immutable and scan images on push.

Unknown values: both settings are literals in any sane program; unknown values cannot be
verified and are reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .framework import Finding, PolicySpec, ResourceView, judge_literal, require_true
from .values import get_path

REPOSITORY = frozenset({"aws:ecr/repository:Repository"})


def check_immutable_tags(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    mutability = resource.props.get("imageTagMutability") or "MUTABLE"
    allowed = [str(v) for v in config["allowedMutability"]]
    return judge_literal("imageTagMutability", mutability, lambda value: value in allowed,
                         "; a pushed tag can be overwritten, so a deployment may run an image nobody reviewed. Set "
                         f"image_tag_mutability='IMMUTABLE' (allowed: {', '.join(allowed)}).")


def check_scan_on_push(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    return require_true("imageScanningConfiguration.scanOnPush",
                        get_path(resource.props, "imageScanningConfiguration", "scanOnPush"),
                        "; vulnerable images are not flagged when pushed. Set "
                        "image_scanning_configuration={'scan_on_push': True}.")


ECR_IMMUTABLE_TAGS = PolicySpec(
    name="ecr-immutable-tags",
    description="ECR repositories have immutable image tags.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    remediation="Set image_tag_mutability='IMMUTABLE' (or IMMUTABLE_WITH_EXCLUSION with narrow exclusion filters).",
    unknowns="An unknown imageTagMutability is reported as unverifiable.",
    check=check_immutable_tags,
    resource_types=REPOSITORY,
    config={
        "allowedMutability": {"type": "array", "items": {"type": "string"},
                              "default": ["IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION"],
                              "description": "Accepted imageTagMutability values."},
    },
)

ECR_SCAN_ON_PUSH = PolicySpec(
    name="ecr-scan-on-push",
    description="ECR repositories scan images on push.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    remediation="Set image_scanning_configuration={'scan_on_push': True}.",
    unknowns="An unknown scanOnPush is reported as unverifiable.",
    check=check_scan_on_push,
    resource_types=REPOSITORY,
)
