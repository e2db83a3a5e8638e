"""How a policy of this pack is declared and turned into a pulumi-policy ``Policy``.

A concern module declares :class:`PolicySpec` objects whose ``check`` is a pure function from a
:class:`ResourceView` (resource policies) or a list of them (stack policies) plus the effective
config to findings. This module adds what every policy shares: config defaults, the
``exceptions`` knob and acknowledgement (see ``exceptions.py``), unknown handling via
:class:`NotJudged`, and a message format that names the resource.
"""

from __future__ import annotations

import gc
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from .exceptions import (
    EXCEPTIONS_SCHEMA,
    STACK_KEY,
    AcknowledgedFinding,
    AcknowledgementOutbox,
    ExceptionList,
    parse_exceptions,
)
from .hostile import CannotJudge, cannot_judge_message, hostile_once, hostile_property, raw_culprit
from .values import (
    UNKNOWN_SHOWN,
    is_unknown,
    name_from_urn,
    plain,
    plain_once,
    resource_region,
    shown,
    type_chain_from_urn,
)


@dataclass(frozen=True)
class Finding:
    """One thing wrong. ``message`` says what is wrong and how to fix it; ``urn`` is the resource
    it is about (stack policies must set it; resource policies may leave it None).

    A ``deferred`` finding is not a violation: it says what the check could not judge because a value
    is unknown during preview. The framework reports it as "not applicable: deferred to `pulumi up`",
    next to the violations the same check found, so an unknown value never passes silently."""

    message: str
    urn: str | None = None
    deferred: bool = False


def deferred(reason: str, urn: str | None = None) -> Finding:
    """A finding that defers ``reason`` (what is unknown) to ``pulumi up``, which judges the known value."""
    return Finding(reason, urn, deferred=True)


DEFERRED_TO_UP = "deferred to `pulumi up`"


def judge_literal(prop: str, value: Any, compliant: Callable[[Any], bool], consequence: str,
                  unknown: str = UNKNOWN_SHOWN) -> list[Finding]:
    """Judge a value that is a literal in any sane program (a flag, an enum): no finding when it is
    known and ``compliant``; otherwise ``"<prop> is <value><consequence>"``, with an unknown value
    shown as ``unknown`` (it cannot be shown to be compliant, so it is reported)."""
    if not is_unknown(value) and compliant(value):
        return []
    return [Finding(f"{prop} is {shown(value, unknown)}{consequence}")]


def require_true(prop: str, value: Any, consequence: str) -> list[Finding]:
    """:func:`judge_literal` for a boolean flag that must be ``True``."""
    return judge_literal(prop, value, lambda flag: flag is True, consequence)


class NotJudged(Exception):
    """Raised by a check that deliberately cannot judge a resource now (e.g. a document that is
    unknown during preview and will be judged at update). Reported as "not applicable"; a check that
    has found violations as well yields :func:`deferred` findings instead."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(eq=False)
class ResourceView:
    """A resource as a check sees it: plain properties with unknown sentinels kept."""

    type: str
    name: str
    urn: str
    props: dict[str, Any]
    provider_props: dict[str, Any] | None = None
    parent_urn: str | None = None
    parent: ResourceView | None = None
    dependencies: list[ResourceView] = field(default_factory=list)
    property_dependencies: dict[str, list[ResourceView]] = field(default_factory=dict)

    @property
    def region(self) -> str | None:
        return resource_region(self.props, self.provider_props)

    @property
    def type_chain(self) -> list[str]:
        """Types of the ancestors and the resource itself, outermost first (from the URN)."""
        return type_chain_from_urn(self.urn) or [self.type]

    def label(self) -> str:
        return f"{self.type} '{self.name}'"

    def depends_via(self, prop: str, other: ResourceView) -> bool:
        """Whether ``prop``'s value comes from ``other`` (property dependency)."""
        return any(dep is other for dep in self.property_dependencies.get(prop, []))

    @classmethod
    def from_validation_args(cls, args: ResourceValidationArgs) -> ResourceView:
        """The view of an Analyze request's resource, made once for all the request's policies (the service
        hands them the same converted properties; the last view is kept with them and what else it was made of)."""
        global _last_view
        provider = args.provider.props if args.provider is not None else None
        made_of = (args.resource_type, args.name, args.urn, args.opts.parent if args.opts is not None else None)
        cached = _last_view
        if cached is not None and cached[0] is args.props and cached[1] is provider and cached[2] == made_of:
            return cached[3]
        props, provider_props = plain_once(args.props, provider)
        view = cls(type=made_of[0], name=made_of[1], urn=made_of[2], props=props, provider_props=provider_props,
                   parent_urn=made_of[3])
        _last_view = (args.props, provider, made_of, view)  # replaced whole: safe across threads
        return view


# The last AnalyzeStack request's views and the last Analyze request's view, shared by the request's policies (as
# values.plain_once shares plain properties); each entry holds what it was made from (see there).
_last_views: tuple[Any, list[ResourceView]] | None = None
_last_view: tuple[Any, Any, tuple[str, str, str, str | None], ResourceView] | None = None


def stack_views(args: StackValidationArgs) -> list[ResourceView]:
    """ResourceViews for every resource of an AnalyzeStack request, with the graph wired up; made once per
    request and shared, read-only, by its stack policies."""
    global _last_views
    cached = _last_views
    if cached is not None and cached[0] is args.resources:
        return cached[1]
    # Every view lives until the request ends, so a collection while they are made frees nothing and only walks
    # the request's whole converted heap again (tens of thousands of new objects trigger several): paused.
    collecting = gc.isenabled()
    gc.disable()
    try:
        views = _stack_views(args)
    finally:
        if collecting:
            gc.enable()
    _last_views = (args.resources, views)
    return views


def _stack_views(args: StackValidationArgs) -> list[ResourceView]:
    views: dict[int, ResourceView] = {}
    for resource in args.resources:
        provider = resource.provider
        props, provider_props = plain_once(resource.props, provider.props if provider is not None else None)
        views[id(resource)] = ResourceView(type=resource.resource_type, name=resource.name, urn=resource.urn,
                                           props=props, provider_props=provider_props,
                                           parent_urn=resource.parent.urn if resource.parent is not None else None)

    def linked(resources: list[Any]) -> list[ResourceView]:
        found = list(map(views.get, map(id, resources)))  # the server links only resources of the request
        return cast(list[ResourceView], found) if None not in found else [v for v in found if v is not None]

    for resource in args.resources:
        view = views[id(resource)]
        if resource.parent is not None:
            view.parent = views.get(id(resource.parent))
        view.dependencies = linked(resource.dependencies)
        view.property_dependencies = {prop: linked(deps) for prop, deps in resource.property_dependencies.items()}
    return list(views.values())


ResourceCheck = Callable[[ResourceView, Mapping[str, Any]], Iterable[Finding]]
StackCheck = Callable[[list[ResourceView], Mapping[str, Any]], Iterable[Finding]]


@dataclass(frozen=True)
class PolicySpec:
    """Everything a policy of this pack declares.

    ``config`` maps knob names to JSON-schema fragments that carry a ``default``; the effective
    config a check receives always has every knob plus ``exceptions``.
    ``resource_types`` (resource policies) limits which resource types the check sees; None
    means every resource.
    """

    name: str
    description: str
    enforcement_level: EnforcementLevel
    severity: Severity
    remediation: str
    unknowns: str
    check: ResourceCheck | StackCheck
    stack: bool = False
    resource_types: frozenset[str] | None = None
    config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def effective_config(self, given: Mapping[str, Any] | None) -> dict[str, Any]:
        config = {knob: schema.get("default") for knob, schema in self.config.items()}
        config["exceptions"] = []
        for key, value in (given or {}).items():
            if key != "enforcementLevel":
                config[key] = value
        return config

    def applies_to(self, resource_type: str) -> bool:
        return self.resource_types is None or resource_type in self.resource_types


def _label_for(urn: str) -> str:
    chain = type_chain_from_urn(urn)
    return f"{chain[-1]} '{name_from_urn(urn)}'" if chain else urn


def _unjudged(spec: PolicySpec, error: BaseException, culprit: tuple[str, str] | None) -> str:
    """The verdict for a check that failed: which property it could not read when one is hostile, else which
    error stopped it. Either way the resource was not judged, so the verdict is a violation."""
    if culprit is not None:
        return cannot_judge_message(*culprit)
    frames = traceback.extract_tb(error.__traceback__)
    where = f" at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else ""
    text = str(error)[:200]
    return (f"cannot judge: policy '{spec.name}' could not read the resource's properties ({type(error).__name__}: "
            f"{text}{where}); the resource was not judged, so it is refused. Check the property types against the "
            "provider's schema, or report this to the policy pack owners.")


def _culprit(spec: PolicySpec, subject: Any, config: Mapping[str, Any]) -> tuple[str, str] | None:
    """The property that made a check fail: a hostile one, or (for a resource) the one without which the check
    runs (it then has a type the check cannot read). Runs only after a failure, so it costs nothing normally."""
    if isinstance(subject, ResourceView):
        found = hostile_property(subject.props)
        if found is not None or len(subject.props) > 200:
            return found
        # A ResourceView subject means a per-resource policy: its check is a ResourceCheck.
        check = cast(ResourceCheck, spec.check)
        for key in list(subject.props):
            trial = ResourceView(subject.type, subject.name, subject.urn,
                                 {k: v for k, v in subject.props.items() if k != key}, subject.provider_props,
                                 subject.parent_urn, subject.parent)
            try:
                list(check(trial, config))
            except (NotJudged, CannotJudge):
                pass
            except Exception:
                continue
            return key, f"is {type(subject.props[key]).__name__} {shown(subject.props[key])[:80]}, a type or shape " \
                        "the provider's schema does not allow there"
        return None
    for view in subject if isinstance(subject, list) else ():
        found = hostile_property(view.props)
        if found is not None:
            return f"{view.label()} {found[0]}", found[1]
    return None


def _run_check(spec: PolicySpec, subject: Any, config: Mapping[str, Any],
               args: ResourceValidationArgs | StackValidationArgs, report_violation: ReportViolation) -> list[Finding] | None:
    """The check's findings, or None when it did not judge: :class:`NotJudged` is reported as not applicable,
    :class:`CannotJudge` and any other error as a violation naming what could not be read (a resource nobody judged
    must not pass, and one odd value must not break the whole request); a resource's label starts both."""
    try:
        return list(spec.check(subject, config))
    except NotJudged as not_judged:
        args.not_applicable(f"{_prefix(subject)}{not_judged.reason}")
    except CannotJudge as cannot:
        report_violation(f"{_prefix(subject)}{cannot_judge_message(cannot.prop, cannot.reason)}", None)
    except (Exception, RecursionError) as error:
        report_violation(f"{_prefix(subject)}{_unjudged(spec, error, _culprit(spec, subject, config))}", None)
    return None


def _prefix(subject: Any) -> str:
    return f"{subject.label()}: " if isinstance(subject, ResourceView) else ""


def _guarded(spec: PolicySpec, validate: Callable[[Any, ReportViolation], None]) -> Callable[[Any, ReportViolation], None]:
    """The one guard between the pack and the engine: whatever a policy meets (a value nested 10,000 levels
    deep that the property conversion cannot walk, a config of the wrong shape), it answers with a verdict
    and never raises into pulumi-policy, which would fail the whole request."""
    def guarded(args: Any, report_violation: ReportViolation) -> None:
        try:
            validate(args, report_violation)
        except Exception as error:  # RecursionError is an Exception too
            if type(error).__module__.startswith("pulumi_policy"):
                raise  # pulumi-policy's own control flow (not_applicable) must reach its server
            culprit = raw_culprit(args, spec.stack)
            label = "" if spec.stack else f"{getattr(args, 'resource_type', '')} '{getattr(args, 'name', '')}': "
            report_violation(f"{label}{_unjudged(spec, error, culprit)}", None)

    return guarded


def build_policy(spec: PolicySpec, outbox: AcknowledgementOutbox) -> ResourceValidationPolicy | StackValidationPolicy:
    """Turn a spec into the pulumi-policy object the engine talks to."""
    schema = PolicyConfigSchema(properties={**{k: dict(v) for k, v in spec.config.items()},
                                            "exceptions": EXCEPTIONS_SCHEMA})
    common: dict[str, Any] = dict(
        name=spec.name,
        description=spec.description,
        enforcement_level=spec.enforcement_level,
        config_schema=schema,
        severity=spec.severity,
        remediation_steps=spec.remediation,
    )
    if spec.stack:
        return StackValidationPolicy(validate=_guarded(spec, _stack_validation(spec, outbox)), **common)
    policy = ResourceValidationPolicy(validate=_guarded(spec, _resource_validation(spec, outbox)), **common)
    # The analyzer service (server.py) skips this policy for any other type: it would return without a word.
    policy.resource_types = spec.resource_types  # type: ignore[attr-defined]  # an attribute of ours on the library's class
    return policy


class _ConfiguredOnce:
    """A policy's effective config and parsed exceptions, derived once per config object: the analyzer
    service (server.py) hands every call of a policy the same config object until the next Configure."""

    def __init__(self, spec: PolicySpec) -> None:
        self.spec = spec
        self._last: tuple[Any, dict[str, Any], ExceptionList] | None = None

    def __call__(self, given: Any) -> tuple[dict[str, Any], ExceptionList]:
        # A policy without config gets a new empty dict per call from pulumi-policy; all of them are one config.
        given = given or None
        last = self._last
        if last is not None and last[0] is given:
            return last[1], last[2]
        config = self.spec.effective_config(plain(given))
        exceptions = parse_exceptions(self.spec.name, config["exceptions"])
        self._last = (given, config, exceptions)  # replaced whole: safe across threads
        return config, exceptions


def _resource_validation(spec: PolicySpec, outbox: AcknowledgementOutbox):
    configured = _ConfiguredOnce(spec)

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if not spec.applies_to(args.resource_type):
            return
        config, exceptions = configured(args.get_config())
        view = ResourceView.from_validation_args(args)
        for broken in exceptions.malformed:
            if broken.matches(view.urn, view.name):
                report_violation(f"{view.label()}: {broken.message(spec.name)}", None)
        hostile = hostile_once(view.props)
        if hostile is not None:
            report_violation(f"{view.label()}: {cannot_judge_message(*hostile)}", None)
            return
        findings = _run_check(spec, view, config, args, report_violation)
        if not findings:
            return
        postponed = [f.message for f in findings if f.deferred]
        for finding in (f for f in findings if not f.deferred):
            acknowledged = exceptions.match(view.urn, view.name)
            message = f"{view.label()}: {finding.message}"
            if acknowledged is not None:
                outbox.put(view.urn, AcknowledgedFinding(spec.name, view.urn, acknowledged.reason, message))
            else:
                report_violation(message, None)
        if postponed:
            args.not_applicable(f"{view.label()}: {'; '.join(postponed)}; {DEFERRED_TO_UP}")

    return validate


def _stack_validation(spec: PolicySpec, outbox: AcknowledgementOutbox):
    configured = _ConfiguredOnce(spec)

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        config, exceptions = configured(args.get_config())
        for broken in exceptions.malformed:
            report_violation(broken.message(spec.name), None)
        resources = stack_views(args)
        findings = _run_check(spec, resources, config, args, report_violation)
        postponed = [f"{_label_for(f.urn)}: {f.message}" if f.urn else f.message
                     for f in findings or () if f.deferred]
        for finding in (f for f in findings or () if not f.deferred):
            urn = finding.urn or ""
            message = f"{_label_for(urn)}: {finding.message}" if urn else finding.message
            acknowledged = exceptions.match(urn, name_from_urn(urn)) if urn else None
            if acknowledged is not None:
                outbox.put(STACK_KEY, AcknowledgedFinding(spec.name, urn, acknowledged.reason, message))
            else:
                report_violation(message, urn or None)
        if postponed:
            args.not_applicable(f"{'; '.join(postponed)}; {DEFERRED_TO_UP}")

    return validate


ACKNOWLEDGED_RESOURCE_POLICY = "acknowledged-findings"
ACKNOWLEDGED_STACK_POLICY = "acknowledged-stack-findings"


def acknowledgement_reporters(outbox: AcknowledgementOutbox) -> list[ResourceValidationPolicy | StackValidationPolicy]:
    """The two ADVISORY policies that report acknowledged findings. They must come last in the
    pack's policy list so that they run after the policies that fill the outbox."""

    def report_resource(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        for finding in outbox.take(args.urn):
            report_violation(finding.render(), None)

    def report_stack(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        for finding in outbox.take(STACK_KEY):
            report_violation(finding.render(), finding.urn or None)

    common: dict[str, Any] = dict(
        enforcement_level=EnforcementLevel.ADVISORY,
        severity=Severity.LOW,
        remediation_steps="Nothing to do while the exception's reason still holds; remove the exception once it "
                          "no longer does.",
    )
    return [
        ResourceValidationPolicy(
            name=ACKNOWLEDGED_RESOURCE_POLICY,
            description="A resource-policy finding acknowledged through a documented policy exception.",
            validate=report_resource,
            **common,
        ),
        StackValidationPolicy(
            name=ACKNOWLEDGED_STACK_POLICY,
            description="A stack-policy finding acknowledged through a documented policy exception.",
            validate=report_stack,
            **common,
        ),
    ]
