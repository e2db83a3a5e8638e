"""Every taggable AWS resource carries the cost-allocation tags the budgets filter on.

Taggable = the resource type has a ``tags`` input in the pulumi-aws schema. The list is
``data/taggable_types.txt``, generated offline from the installed pulumi-aws SDK by
``generate_taggable_types.py`` (importing every pulumi_aws module at run time would cost ~13 s);
a resource whose inputs contain ``tags`` counts as taggable too, which covers types added after
the list was generated.

The tags judged are what AWS will apply: the provider's ``defaultTags.tags`` (from the provider
record; the wire may carry it JSON-encoded) overlaid by ``tagsAll`` (real preview) and the
resource's own ``tags``. Required: ``requiredKeys`` with non-empty values, the environment key
within ``allowedEnvironments`` and equal to the environment of the stack that deploys the resource
(``stackEnvironments``, see ``environments.py``: a prod resource tagged ``staging`` would be billed to
staging), and ``serviceKey`` on resources that belong to one service, i.e. whose parent chain (the
type chain of the URN) contains one of ``serviceComponentTypes``.

Unknown values: an unknown tag value counts as present; whether it is empty, allowed and the stack's
environment is deferred to ``pulumi up``. An unknown tag map (own tags, or provider default tags
when keys are missing) is deferred to ``pulumi up`` as a whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .environments import STACK_ENVIRONMENTS_KNOB, environment_of
from .framework import Finding, NotJudged, PolicySpec, ResourceView, deferred
from .values import effective_tags, is_unknown, provider_default_tags

TAGGABLE_TYPES_FILE = Path(__file__).resolve().parent / "data" / "taggable_types.txt"


@lru_cache(maxsize=1)
def taggable_types() -> frozenset[str]:
    lines = TAGGABLE_TYPES_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def is_taggable(resource: ResourceView) -> bool:
    if not resource.type.startswith("aws:"):
        return False
    return resource.type in taggable_types() or "tags" in resource.props


def _as_tag_map(tags: Any) -> Any:
    """Tags as a dict; also accepts the ``[{key, value}]`` list shape some resources use."""
    if isinstance(tags, list):
        return {t.get("key"): t.get("value") for t in tags if isinstance(t, Mapping) and "key" in t}
    return tags


def check_budget_tags(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    if not is_taggable(resource):
        return []
    # effective_tags reads these two; the rest of the properties need no copy.
    props = {"tags": _as_tag_map(resource.props.get("tags")), "tagsAll": resource.props.get("tagsAll")}
    defaults = provider_default_tags(resource.provider_props)
    tags = effective_tags(props, defaults)
    defaults_unknown = is_unknown(defaults)
    required = [str(k) for k in config["requiredKeys"]]
    service_key = str(config["serviceKey"])
    ancestors = resource.type_chain[:-1]
    component_types = set(config["serviceComponentTypes"])
    if any(t in component_types for t in ancestors):
        required.append(service_key)

    if is_unknown(tags) or not isinstance(tags, dict):
        raise NotJudged("its tags are unknown during preview; deferred to `pulumi up`")
    missing = [k for k in required if k not in tags]
    if missing and defaults_unknown:
        raise NotJudged("the provider's default tags are unknown during preview; deferred to `pulumi up`")

    findings: list[Finding] = []
    unknown = [k for k in required if k in tags and is_unknown(tags[k])]
    if unknown:
        findings.append(deferred(f"tag value(s) {', '.join(unknown)} unknown during preview"))
    empty = [k for k in required if k in tags and not is_unknown(tags[k]) and not str(tags[k] or "").strip()]
    if missing or empty:
        parts = []
        if missing:
            parts.append(f"missing tag(s) {', '.join(missing)}")
        if empty:
            parts.append(f"empty tag(s) {', '.join(empty)}")
        hint = (" Resources inside a service component also need "
                f"'{service_key}'.") if service_key in missing else ""
        findings.append(Finding(
            f"{' and '.join(parts)}; AWS Budgets and cost allocation cannot attribute its cost. Set them in the "
            f"provider's default_tags or the resource's tags.{hint}"))
    environment_key = str(config["environmentKey"])
    environment = tags.get(environment_key)
    allowed = [str(e) for e in config["allowedEnvironments"]]
    if isinstance(environment, str) and environment.strip() and not is_unknown(environment) \
            and environment not in allowed:
        findings.append(Finding(
            f"tag {environment_key}='{environment}' is not one of {', '.join(allowed)}; budgets filter on these "
            "values. Use an allowed environment name."))
    stack_environment = environment_of(resource.urn, config["stackEnvironments"])
    if isinstance(environment, str) and not is_unknown(environment) and stack_environment is not None \
            and environment in allowed and environment != stack_environment:
        findings.append(Finding(
            f"tag {environment_key}='{environment}' but the stack deploying it is {stack_environment}; its cost would "
            f"be billed to {environment}. Tag it {environment_key}='{stack_environment}' (or leave the tag to the "
            "provider's default tags)."))
    return findings


BUDGET_TAGS = PolicySpec(
    name="budget-tags",
    description="Every taggable AWS resource carries non-empty cost tags (environment, cost-center, owner, and "
                "service inside a service component), merged with the provider's default tags; the environment tag "
                "is the deploying stack's environment.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    remediation="Set the cost tags in the AWS provider's default_tags (environment, cost-center, owner) and add "
                "'service' to the tags of resources created by a service component.",
    unknowns="Unknown tag values count as present, their values are deferred to `pulumi up`; an unknown tag map is "
             "deferred to `pulumi up`.",
    check=check_budget_tags,
    config={
        "requiredKeys": {
            "type": "array", "items": {"type": "string"}, "default": ["environment", "cost-center", "owner"],
            "description": "Tag keys every taggable resource must carry.",
        },
        "environmentKey": {"type": "string", "default": "environment",
                           "description": "The tag key whose value must be an allowed environment."},
        "allowedEnvironments": {
            "type": "array", "items": {"type": "string"}, "default": ["staging", "prod"],
            "description": "Allowed values of the environment tag.",
        },
        "stackEnvironments": STACK_ENVIRONMENTS_KNOB,
        "serviceKey": {"type": "string", "default": "service",
                       "description": "Tag key required on resources that belong to one service."},
        "serviceComponentTypes": {
            "type": "array", "items": {"type": "string"}, "default": ["microservices:platform:MeshService"],
            "description": "Component types whose descendants belong to one service.",
        },
    },
)
