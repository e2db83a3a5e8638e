"""ECR repositories keep image tags immutable and scan images on push.

Tag immutability is judged on repositories and on repository creation templates (which create
repositories for pull-through caches and replication). With ``IMMUTABLE_WITH_EXCLUSION``, an
exclusion filter that is only wildcards (``*``) exempts every tag, which is mutability spelled
differently, and is refused; so are filters that together match a tag starting with any character
(``a*``, ``b*`` ... ``_*``).

Unknown values: mutability and scan-on-push are literals in any sane program; unknown values cannot
be verified and are reported. Unknown exclusion filters are deferred to ``pulumi up``.
"""

from __future__ import annotations

import fnmatch
import string
from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .framework import Finding, PolicySpec, ResourceView, deferred, judge_literal, require_true
from .values import as_list, get_path, is_unknown

REPOSITORY = frozenset({"aws:ecr/repository:Repository"})
CREATION_TEMPLATE = "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate"


def check_immutable_tags(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    mutability = resource.props.get("imageTagMutability") or "MUTABLE"
    allowed = [str(v) for v in config["allowedMutability"]]
    findings = judge_literal("imageTagMutability", mutability, lambda value: value in allowed,
                             "; a pushed tag can be overwritten, so a deployment may run an image nobody reviewed. "
                             f"Set image_tag_mutability='IMMUTABLE' (allowed: {', '.join(allowed)}).")
    if findings or mutability != "IMMUTABLE_WITH_EXCLUSION":
        return findings
    filters = resource.props.get("imageTagMutabilityExclusionFilters")
    if is_unknown(filters):
        return [deferred("imageTagMutabilityExclusionFilters is unknown during preview")]
    for index, entry in enumerate(as_list(filters)):
        pattern = get_path(entry, "filter")
        if is_unknown(pattern):
            findings.append(deferred(f"imageTagMutabilityExclusionFilters[{index}].filter is unknown during preview"))
        elif isinstance(pattern, str) and not pattern.replace("*", "").replace("?", "").strip():
            findings.append(Finding(
                f"imageTagMutabilityExclusionFilters[{index}] is {pattern!r}, which exempts every tag from "
                "immutability, so the repository is mutable in all but name. Exclude only the tags that must move "
                "(e.g. 'latest', 'dev-*'), or use IMMUTABLE."))
    patterns = [get_path(entry, "filter") for entry in as_list(filters)]
    if not findings and patterns and all(isinstance(p, str) for p in patterns) and _cover_every_tag(patterns):
        findings.append(Finding(
            f"imageTagMutabilityExclusionFilters {patterns!r} together match every tag (each first character is "
            "covered), so the repository is mutable in all but name. Exclude only the tags that must move."))
    return findings


# Characters an image tag may start with (tags match [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}).
_TAG_STARTS = string.ascii_letters + string.digits + "_"


def _cover_every_tag(patterns: list[str]) -> bool:
    """Whether wildcard filters together match a tag starting with any character (``a*``, ``b*``, ... ``?*``)."""
    return all(any(fnmatch.fnmatchcase(f"{start}q7.Z-x", p) and fnmatch.fnmatchcase(start, p.rstrip("*") or "*")
                   for p in patterns) for start in _TAG_STARTS)


def check_scan_on_push(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    return require_true("imageScanningConfiguration.scanOnPush",
                        get_path(resource.props, "imageScanningConfiguration", "scanOnPush"),
                        "; vulnerable images are not flagged when pushed. Set "
                        "image_scanning_configuration={'scan_on_push': True}.")


ECR_IMMUTABLE_TAGS = PolicySpec(
    name="ecr-immutable-tags",
    description="ECR repositories and repository creation templates have immutable image tags; exclusion filters "
                "do not exempt every tag.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    remediation="Set image_tag_mutability='IMMUTABLE' (or IMMUTABLE_WITH_EXCLUSION with narrow exclusion filters).",
    unknowns="An unknown imageTagMutability is reported as unverifiable; unknown exclusion filters are deferred to "
             "`pulumi up`.",
    check=check_immutable_tags,
    resource_types=REPOSITORY | {CREATION_TEMPLATE},
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
