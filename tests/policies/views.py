"""Small resource views for calling the pack's checks in process (no pack process, no gRPC).

A policy's check is a pure function from a :class:`~policies.framework.ResourceView` (resource
policies) or a list of them (stack policies) plus its effective config. These helpers build the
views the framework builds from an Analyze / AnalyzeStack request::

    role = view("aws:iam/role:Role", {"permissionsBoundary": UNKNOWN})
    assert findings(IAM_ROLE_PERMISSIONS_BOUNDARY, role) == []

    stack = Stack()
    vpc = stack.add("aws:ec2/vpc:Vpc", "main", {"id": UNKNOWN})
    stack.add("aws:ec2/vpcEndpoint:VpcEndpoint", "s3", {"vpcId": UNKNOWN, ...}, deps={"vpcId": [vpc]})
    findings(REQUIRED_VPC_ENDPOINTS, stack.views)

:func:`validate` goes one step further and runs the pulumi-policy policy object the pack builds
from a spec (config defaults, exceptions, acknowledgement, not-applicable), still in process.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)

from policies.exceptions import AcknowledgementOutbox
from policies.framework import Finding, NotJudged, PolicySpec, ResourceView, acknowledgement_reporters, build_policy
from policies.values import UNKNOWN_STRING

UNKNOWN = UNKNOWN_STRING
STACK = "test"
PROJECT = "microservices-foundation"
COST_TAGS = {"environment": "staging", "cost-center": "cc-platform", "owner": "platform-team"}


def provider(region: str = "eu-central-1", default_tags: Mapping[str, str] | None = None, *,
             tags_as_json: bool = True) -> dict[str, Any]:
    """An AWS provider's properties as the engine sends them (``defaultTags`` usually JSON-encoded)."""
    props: dict[str, Any] = {"region": region}
    wrapped = {"tags": dict(COST_TAGS if default_tags is None else default_tags)}
    props["defaultTags"] = json.dumps(wrapped) if tags_as_json else wrapped
    return props


def urn(type_: str, name: str, parent: ResourceView | None = None, stack: str = STACK) -> str:
    """A URN whose type segment carries the parent's type chain, as the engine writes it."""
    qualified = type_ if parent is None else "$".join(parent.type_chain + [type_])
    return f"urn:pulumi:{stack}::{PROJECT}::{qualified}::{name}"


_DEFAULT = object()


def view(type_: str, props: Mapping[str, Any] | None = None, *, name: str = "r",
         provider_props: Any = _DEFAULT, parent: ResourceView | None = None, stack: str = STACK) -> ResourceView:
    """One resource as a resource policy sees it; the provider defaults to eu-central-1 with the cost tags."""
    return ResourceView(
        type=type_, name=name, urn=urn(type_, name, parent, stack), props=dict(props or {}),
        provider_props=provider() if provider_props is _DEFAULT else provider_props,
        parent_urn=parent.urn if parent is not None else None, parent=parent)


class Stack:
    """The resources of one AnalyzeStack request, with parents and property dependencies wired."""

    def __init__(self, *, region: str = "eu-central-1", default_tags: Mapping[str, str] | None = None,
                 stack: str = STACK) -> None:
        self.stack = stack
        self.provider_props = provider(region, default_tags)
        self.views: list[ResourceView] = []

    def add(self, type_: str, name: str, props: Mapping[str, Any] | None = None, *,
            deps: Mapping[str, list[ResourceView]] | None = None, parent: ResourceView | None = None,
            provider_props: Any = _DEFAULT) -> ResourceView:
        """A custom resource; ``props`` are its inputs overlaid with its outputs (``id``, ``arn``...)."""
        resource = view(type_, props, name=name, parent=parent, stack=self.stack,
                        provider_props=self.provider_props if provider_props is _DEFAULT else provider_props)
        resource.property_dependencies = {prop: list(targets) for prop, targets in (deps or {}).items()}
        resource.dependencies = list({id(t): t for ts in (deps or {}).values() for t in ts}.values())
        self.views.append(resource)
        return resource

    def component(self, type_: str, name: str, outputs: Mapping[str, Any] | None = None, *,
                  parent: ResourceView | None = None) -> ResourceView:
        """A component resource (no provider); a stack policy sees its outputs as its properties."""
        return self.add(type_, name, outputs, parent=parent, provider_props=None)


def outcome(spec: PolicySpec, subject: ResourceView | list[ResourceView], **knobs: Any) -> tuple[list[Finding], list[str]]:
    """The violations ``spec``'s check finds and what it defers to ``pulumi up`` (a :class:`NotJudged`
    or deferred findings), with the config knobs given and the spec's defaults for the rest."""
    if not spec.stack and not spec.applies_to(subject.type):
        return [], []
    try:
        found = list(spec.check(subject, spec.effective_config(knobs)))
    except NotJudged as not_judged_:
        return [], [not_judged_.reason]
    return [f for f in found if not f.deferred], [f.message for f in found if f.deferred]


def findings(spec: PolicySpec, subject: ResourceView | list[ResourceView], **knobs: Any) -> list[Finding]:
    """The violations ``spec``'s check finds (not what it defers)."""
    return outcome(spec, subject, **knobs)[0]


def messages(spec: PolicySpec, subject: ResourceView | list[ResourceView], **knobs: Any) -> list[str]:
    return [finding.message for finding in findings(spec, subject, **knobs)]


def not_judged(spec: PolicySpec, subject: ResourceView | list[ResourceView], **knobs: Any) -> str:
    """What the check defers to ``pulumi up`` for ``subject``; fails the test if it finds a violation
    or passes the resource without saying what it could not judge."""
    violations, deferrals = outcome(spec, subject, **knobs)
    assert not violations and deferrals, f"{spec.name}: violations {violations}, deferred {deferrals}"
    return "; ".join(deferrals)


# --- through the pulumi-policy objects the pack is made of ------------------------------------------

@dataclass
class Verdicts:
    """What one policy (and the acknowledgement reporters after it) reported for one request."""

    violations: list[tuple[str, str | None]] = field(default_factory=list)   # (message, urn)
    not_applicable: list[str] = field(default_factory=list)
    acknowledged: list[tuple[str, str | None]] = field(default_factory=list)

    @property
    def messages(self) -> list[str]:
        return [message for message, _ in self.violations]


class _ResourceArgs(ResourceValidationArgs):
    # pulumi-policy's not_applicable raises an exception its server turns into a "not applicable"
    # note; recording it instead keeps the test free of the SDK's private exception type.
    def not_applicable(self, reason: str | None = None) -> None:
        self.reasons.append(reason or "")


class _StackArgs(StackValidationArgs):
    def not_applicable(self, reason: str | None = None) -> None:
        self.reasons.append(reason or "")


def _options(resource: ResourceView) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect=False, ignore_changes=[], delete_before_replace=None, aliases=[],
                                 custom_timeouts=PolicyCustomTimeouts(0, 0, 0), additional_secret_outputs=[],
                                 parent=resource.parent_urn)


def _provider(resource: ResourceView) -> PolicyProviderResource | None:
    if resource.provider_props is None:
        return None
    return PolicyProviderResource("pulumi:providers:aws", resource.provider_props,
                                  f"urn:pulumi:{STACK}::{PROJECT}::pulumi:providers:aws::aws", "aws")


def _policy_resources(resources: list[ResourceView]) -> list[PolicyResource]:
    converted: dict[int, PolicyResource] = {}
    for resource in resources:
        converted[id(resource)] = PolicyResource(resource.type, resource.props, resource.urn, resource.name,
                                                 _options(resource), _provider(resource), None, [], {})
    for resource in resources:
        policy_resource = converted[id(resource)]
        policy_resource.parent = converted.get(id(resource.parent)) if resource.parent is not None else None
        policy_resource.dependencies = [converted[id(d)] for d in resource.dependencies]
        policy_resource.property_dependencies = {
            prop: [converted[id(d)] for d in deps] for prop, deps in resource.property_dependencies.items()}
    return list(converted.values())


def validate(spec: PolicySpec, subject: ResourceView | list[ResourceView],
             config: Mapping[str, Any] | None = None) -> Verdicts:
    """Run the policy the pack builds from ``spec``, then the acknowledgement reporters, on one
    Analyze (a view) or AnalyzeStack (a list of views) request, as pulumi-policy's server would."""
    outbox = AcknowledgementOutbox()
    policy = build_policy(spec, outbox)
    resource_reporter, stack_reporter = acknowledgement_reporters(outbox)
    verdicts = Verdicts()

    def report(message: str, urn_: str | None = None) -> None:
        verdicts.violations.append((message, urn_))

    def acknowledge(message: str, urn_: str | None = None) -> None:
        verdicts.acknowledged.append((message, urn_))

    if spec.stack:
        args: Any = _StackArgs(_policy_resources(list(subject)), dict(config or {}))
        reporter = stack_reporter
    else:
        args = _ResourceArgs(subject.type, subject.props, subject.urn, subject.name, _options(subject),
                             _provider(subject), dict(config or {}))
        reporter = resource_reporter
    args.reasons = verdicts.not_applicable
    policy.validate(args, report)
    reporter.validate(args, acknowledge)
    return verdicts
