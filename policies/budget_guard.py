"""The stack's estimated monthly cost stays within the budget it registers.

The estimate is recomputed here from the stack's resources and the shared price file
(``policies/cost``), never read from a figure the program reports. The budget is the
``limitAmount`` (USD) of each COST ``aws:budgets/budget:Budget`` in the stack, normalised to a month
whatever its ``timeUnit`` (DAILY x 365/12, QUARTERLY / 3, ANNUALLY / 12), converted with
``currency.eurToUsd`` of the same price file.

Fails closed: a resource the estimator can neither price nor find among the free types is a MANDATORY
verdict naming its type, unless the ``acknowledgedTypes`` knob names the type with a reason; usage
assumptions below their environment's floor make the estimate impossible (MANDATORY).

An overrun may be approved: an approval records an amount in EUR, a reason and an approver,
either as tags on the budget resource (``budget-approved-eur``, ``budget-approval-reason``,
``budget-approver``) or in this policy's ``approval`` config knob; when both exist the lower
amount counts. Estimate above the budget but within the approved amount: reported by the
ADVISORY ``stack-budget-approved-overrun``; above the approved amount, or without a valid
approval: MANDATORY ``stack-budget``. Every message names the three biggest cost drivers.

A budget above the seeds' ceiling (``approvalCeilingEur``, 200) needs a recorded approval of at least its
amount: with one, the ADVISORY policy says so with the cost drivers that alone exceed the ceiling (what
makes the ceiling impossible for that stack); without one, MANDATORY.

Unknown values: no budget resource, or an unknown ``limitAmount``: not applicable. A resource
whose size is unknown during preview is left out of the estimate, which is then a lower bound: an
overrun is still reported, and within the budget the unpriced resources are deferred to ``pulumi up``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pulumi_policy import EnforcementLevel, Severity

from .cost.assumptions import UsageAssumptions, assumptions_for
from .cost.estimator import CostResource, Estimate, estimate
from .cost.prices import PACK_DIR, PriceBook, PriceFileError, load_prices
from .cost.tags import APPROVAL_REASON_TAG, APPROVED_EUR_TAG, APPROVER_TAG
from .framework import Finding, NotJudged, PolicySpec, ResourceView, deferred
from .values import get_path, is_known_text, is_unknown

BUDGET_TYPE = "aws:budgets/budget:Budget"
MIN_REASON_LENGTH = 20
# An approval above this is not a budget but a typo (the same bound as budget.monthlyEur).
MAX_APPROVAL_EUR = 1_000_000.0
# The seeds: 100 EUR a month per region, up to 200 EUR with a recorded approval.
DEFAULT_CEILING_EUR = 200.0
# Months per budget period: a limit per period becomes a limit per month.
MONTHS_PER_PERIOD = {"DAILY": 12 / 365, "MONTHLY": 1.0, "QUARTERLY": 3.0, "ANNUALLY": 12.0}


@dataclass(frozen=True)
class Approval:
    amount_eur: float
    reason: str
    approver: str

    def describe(self) -> str:
        return f"approved up to €{self.amount_eur:.2f} by {self.approver} ({self.reason})"


@dataclass(frozen=True)
class BudgetCheck:
    """One budget judged against the estimate."""

    urn: str
    label: str
    budget_eur: float
    limit_usd: float
    estimate: Estimate
    approval: Approval | None
    approval_problem: str | None

    @property
    def over(self) -> bool:
        return self.estimate.total_eur > self.budget_eur + 0.005

    @property
    def within_approval(self) -> bool:
        return self.approval is not None and self.estimate.total_eur <= self.approval.amount_eur + 0.005

    def above_ceiling(self, ceiling_eur: float) -> bool:
        return self.budget_eur > ceiling_eur + 0.005

    def ceiling_message(self, ceiling_eur: float) -> str:
        drivers, running = [], 0.0
        for name, eur in self.estimate.by_driver().items():
            drivers.append(f"{name} €{eur:.2f}")
            running += eur
            if running > ceiling_eur:
                break
        text = (f"the budget €{self.budget_eur:.2f} is above the seeds' €{ceiling_eur:.0f} ceiling (estimate "
                f"€{self.estimate.total_eur:.2f}).")
        if self.approval is not None and self.approval.amount_eur + 0.005 >= self.budget_eur:
            return (f"{text} Under the recorded approval: {self.approval.describe()}. What makes €{ceiling_eur:.0f} "
                    f"impossible: {', '.join(drivers)} (€{running:.2f} together).")
        hint = f" The recorded approval is not valid: {self.approval_problem}." if self.approval_problem else ""
        return (f"{text}{hint} Record an approval of at least the budget (amount, reason, approver) or lower the "
                f"budget; the biggest drivers: {', '.join(drivers)}.")

    def message(self) -> str:
        drivers = ", ".join(f"{name} €{eur:.2f}" for name, eur in self.estimate.top_drivers(3))
        total = self.estimate.total_eur
        text = (f"estimated monthly cost €{total:.2f} exceeds the budget €{self.budget_eur:.2f} "
                f"(limitAmount {self.limit_usd:.2f} USD at {self.estimate.eur_to_usd:g} USD/EUR) by "
                f"€{total - self.budget_eur:.2f}; biggest cost drivers: {drivers}.")
        if self.approval is not None and self.within_approval:
            return f"{text} Within the recorded approval: {self.approval.describe()}."
        if self.approval is not None:
            return (f"{text} It also exceeds the recorded approval ({self.approval.describe()}) by "
                    f"€{total - self.approval.amount_eur:.2f}. Lower those drivers or raise the approval.")
        hint = f" The recorded approval is not valid: {self.approval_problem}." if self.approval_problem else ""
        return (f"{text}{hint} Lower those drivers (docs/cost-model.md lists the levers) or record an approval "
                f"(amount, reason, approver).")


def _approval_from(amount: Any, reason: Any, approver: Any, where: str) -> tuple[Approval | None, str | None]:
    if amount is None and reason is None and approver is None:
        return None, None
    try:
        value = float(amount) if not isinstance(amount, bool) else math.nan
    except (TypeError, ValueError, OverflowError):
        value = math.nan
    if not math.isfinite(value):
        return None, f"{where}: the approved amount {amount!r} is not a finite number of EUR"
    if not 0 < value <= MAX_APPROVAL_EUR:
        return None, f"{where}: the approved amount must be above 0 and at most {MAX_APPROVAL_EUR:,.0f} EUR"
    if not (isinstance(reason, str) and len(reason.strip()) >= MIN_REASON_LENGTH):
        return None, f"{where}: the reason needs at least {MIN_REASON_LENGTH} characters"
    if not (isinstance(approver, str) and approver.strip()):
        return None, f"{where}: the approver is missing"
    return Approval(value, reason.strip(), approver.strip()), None


def _approval(budget: ResourceView, config: Mapping[str, Any]) -> tuple[Approval | None, str | None]:
    raw_tags = budget.props.get("tags")
    tags: Mapping[str, Any] = raw_tags if isinstance(raw_tags, Mapping) else {}
    from_tags, tag_problem = _approval_from(tags.get(APPROVED_EUR_TAG), tags.get(APPROVAL_REASON_TAG),
                                            tags.get(APPROVER_TAG), "budget tags")
    raw_given = config.get("approval")
    given: Mapping[str, Any] = raw_given if isinstance(raw_given, Mapping) else {}
    from_config, config_problem = _approval_from(given.get("amountEur"), given.get("reason"), given.get("approver"),
                                                 "policy config 'approval'")
    approvals = [a for a in (from_tags, from_config) if a is not None]
    if approvals:
        return min(approvals, key=lambda a: a.amount_eur), None
    return None, tag_problem or config_problem


def _is_custom(view: ResourceView) -> bool:
    """Whether a provider creates ``view`` (it may cost money): it has a provider, or its type has a provider
    module (``aws:ec2/instance:Instance``) or package. Components have neither."""
    package, _, rest = view.type.partition(":")
    return view.provider_props is not None or "/" in rest.split(":", 1)[0] or package in ("aws", "aws-native")


def _resources(views: list[ResourceView], regions: list[str | None]) -> list[CostResource]:
    return [CostResource(urn=v.urn, type=v.type, name=v.name, inputs=v.props, region=region, parent=v.parent_urn,
                         custom=_is_custom(v)) for v, region in zip(views, regions, strict=True)]


def _stack_region(views: list[ResourceView], regions: list[str | None]) -> str | None:
    """The region most of the stack's AWS resources live in (``regions``: each view's, in order)."""
    found = [region for v, region in zip(views, regions, strict=True) if v.type.startswith("aws:") and region]
    return max(set(found), key=found.count) if found else None


def _stack_document(views: list[ResourceView], config: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    """(project, the ``config`` mapping of ``Pulumi.<stack>.yaml`` in ``stackConfigDir``), stack and project
    from the URNs; an empty mapping when the file is absent."""
    parts = views[0].urn.split("::") if views else []
    if len(parts) < 2:
        return "", {}
    stack, project = parts[0].rsplit(":", 1)[-1], parts[1]
    directory = Path(str(config["stackConfigDir"]))
    path = (directory if directory.is_absolute() else PACK_DIR / directory) / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        return project, {}
    try:
        status = path.stat()
    except OSError:
        return project, {}
    return project, _stack_file_config(str(path), (status.st_mtime_ns, status.st_size, status.st_ino))


@lru_cache(maxsize=8)
def _stack_file_config(path: str, version: tuple[int, int, int]) -> Mapping[str, Any]:
    """The ``config`` mapping of a stack file, parsed once per version of the file (modified time, size, inode),
    not three times per budget policy and request; read only by its callers."""
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise ValueError(f"{Path(path).name} is not valid YAML: {error}") from None
    found = document.get("config") if isinstance(document, dict) else None
    return found if isinstance(found, Mapping) else {}


def stack_cost_assumptions(views: list[ResourceView], config: Mapping[str, Any]) -> Mapping[str, Any]:
    """The stack's own ``costAssumptions``: the policy config's knob when set, else the key
    ``<project>:costAssumptions`` of ``Pulumi.<stack>.yaml`` in ``stackConfigDir`` (stack and project from
    the URNs), so that `pulumi preview --policy-pack policies` judges what the preview prints."""
    if config.get("costAssumptions"):
        return dict(config["costAssumptions"])
    project, document = _stack_document(views, config)
    found = document.get(f"{project}:costAssumptions")
    return found if isinstance(found, Mapping) else {}


def stack_environment(views: list[ResourceView], config: Mapping[str, Any]) -> str | None:
    """The stack's environment (its floors): ``<project>:environment`` of its stack file, else the
    ``environment`` tag its resources carry."""
    project, document = _stack_document(views, config)
    named = document.get(f"{project}:environment")
    if isinstance(named, str):
        return named
    tags = [get_path(v.props, "tags", "environment") for v in views]
    known = {t for t in tags if isinstance(t, str)}
    return known.pop() if len(known) == 1 else None


def budget_checks(views: list[ResourceView], config: Mapping[str, Any]) -> list[BudgetCheck]:
    """Every monthly COST budget of the stack judged against the recomputed estimate."""
    budgets = [v for v in views if v.type == BUDGET_TYPE and v.props.get("budgetType", "COST") == "COST"]
    if not budgets:
        raise NotJudged(f"the stack registers no COST {BUDGET_TYPE}; there is no budget to compare with")
    prices_file = Path(str(config["pricesFile"]))
    prices = load_prices(prices_file if prices_file.is_absolute() else PACK_DIR / prices_file)
    project, document = _stack_document(views, config)
    role = document.get(f"{project}:role")
    assumptions: UsageAssumptions = assumptions_for(stack_cost_assumptions(views, config),
                                                    stack_environment(views, config),
                                                    role if isinstance(role, str) else None)
    result = _estimate_once(views, prices, assumptions, frozenset(config["serviceComponentTypes"]))
    checks = []
    for budget in budgets:
        amount, unit = budget.props.get("limitAmount"), budget.props.get("limitUnit")
        time_unit = budget.props.get("timeUnit")
        if is_unknown(amount) or is_unknown(unit) or is_unknown(time_unit):
            raise NotJudged(f"{budget.label()}: limitAmount or timeUnit is unknown during preview; judged at update")
        if unit != "USD" or not is_known_text(amount):
            raise ValueError(f"{budget.label()}: limitAmount {amount!r} {unit!r} is not an amount in USD")
        if time_unit not in MONTHS_PER_PERIOD:
            raise ValueError(f"{budget.label()}: timeUnit {time_unit!r} is not one of {', '.join(MONTHS_PER_PERIOD)}")
        try:
            per_period = float(str(amount))
        except ValueError:
            per_period = math.nan
        if not (math.isfinite(per_period) and per_period > 0):
            raise ValueError(f"{budget.label()}: limitAmount {amount!r} is not a positive finite amount in USD")
        limit_usd = per_period / MONTHS_PER_PERIOD[time_unit]
        approval, problem = _approval(budget, config)
        checks.append(BudgetCheck(urn=budget.urn, label=budget.label(), budget_eur=limit_usd / prices.currency.eur_to_usd,
                                  limit_usd=limit_usd, estimate=result, approval=approval, approval_problem=problem))
    return checks


# The two budget policies judge the same request's views against the same estimate: it is computed once. The
# entry holds the views list it was made from, so a matching identity can only mean the same request (the tuple
# is replaced whole: safe across threads); prices, assumptions and component types must be equal too.
_last_estimate: tuple[list[ResourceView], PriceBook, UsageAssumptions, frozenset[str], Estimate] | None = None


def _estimate_once(views: list[ResourceView], prices: PriceBook, assumptions: UsageAssumptions,
                   service_component_types: frozenset[str]) -> Estimate:
    global _last_estimate
    cached = _last_estimate
    if cached is not None and cached[0] is views and cached[1] is prices and cached[2] == assumptions \
            and cached[3] == service_component_types:
        return cached[4]
    regions = [v.region for v in views]
    result = estimate(_resources(views, regions), prices, assumptions, default_region=_stack_region(views, regions),
                      service_component_types=service_component_types)
    _last_estimate = (views, prices, assumptions, service_component_types, result)
    return result


def _judge(views: list[ResourceView], config: Mapping[str, Any], approved: bool) -> list[Finding]:
    try:
        checks = budget_checks(views, config)
    except (PriceFileError, ValueError) as error:
        if approved:
            return []  # reported once, by the mandatory policy
        return [Finding(f"the cost estimate cannot be computed: {error}")]
    findings = [] if approved else _unpriced_findings(checks, config)
    ceiling = float(config.get("approvalCeilingEur") or DEFAULT_CEILING_EUR)
    for check in checks:
        if check.above_ceiling(ceiling):
            approved_ceiling = check.approval is not None and check.approval.amount_eur + 0.005 >= check.budget_eur
            if approved_ceiling == approved:
                findings.append(Finding(check.ceiling_message(ceiling), urn=check.urn))
        if check.over and check.within_approval == approved:
            findings.append(Finding(check.message(), urn=check.urn))
        unknown = [str(gap) for gap in check.estimate.gaps if gap.deferred]
        if unknown and not approved and not check.over:
            # Resources whose size is unknown during preview are left out: the estimate is a lower bound.
            findings.append(deferred(f"the estimate (€{check.estimate.total_eur:.2f}) leaves out what is unknown "
                                     f"during preview: {'; '.join(unknown)}", urn=check.urn))
    return findings


def _unpriced_findings(checks: list[BudgetCheck], config: Mapping[str, Any]) -> list[Finding]:
    """Fail closed: every resource nothing can price, unless its type is acknowledged with a reason."""
    if not checks:
        return []
    given = config.get("acknowledgedTypes")
    acknowledged = {t for t, reason in (given.items() if isinstance(given, Mapping) else ())
                    if isinstance(reason, str) and len(reason.strip()) >= MIN_REASON_LENGTH}
    return [Finding(f"{gap.resource} cannot be priced ({gap.reason}), so the estimate would count it as zero. "
                    f"Price it (policies/cost, platform/prices.yaml), declare the type free with a reason "
                    f"(policies/cost/free_types.py), or acknowledge '{gap.type}' in this policy's "
                    f"acknowledgedTypes knob with a reason of at least {MIN_REASON_LENGTH} characters.", urn=gap.urn)
            for gap in checks[0].estimate.gaps if not gap.deferred and gap.type not in acknowledged]


def check_stack_budget(views: list[ResourceView], config: Mapping[str, Any]) -> list[Finding]:
    return _judge(views, config, approved=False)


def check_approved_overrun(views: list[ResourceView], config: Mapping[str, Any]) -> list[Finding]:
    return _judge(views, config, approved=True)


BUDGET_POLICY_KNOBS: dict[str, dict[str, Any]] = {
    "pricesFile": {
        "type": "string", "default": "../platform/prices.yaml",
        "description": "The unit price file; a relative path is relative to the pack directory (the published "
                       "pack must ship it or be given an absolute path).",
    },
    "costAssumptions": {
        "type": "object", "default": {},
        "description": "Usage assumptions (camelCase names of policies/cost/assumptions.py); missing ones default. "
                       "Empty: the stack's own costAssumptions from Pulumi.<stack>.yaml in stackConfigDir.",
    },
    "stackConfigDir": {
        "type": "string", "default": "..",
        "description": "Where Pulumi.<stack>.yaml lives; a relative path is relative to the pack directory.",
    },
    "approval": {
        "type": ["object", "null"], "default": None,
        "properties": {"amountEur": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_APPROVAL_EUR},
                       "reason": {"type": "string", "minLength": MIN_REASON_LENGTH},
                       "approver": {"type": "string", "minLength": 1}},
        "description": "A recorded approval of an overrun: amountEur, reason, approver.",
    },
    "acknowledgedTypes": {
        "type": "object", "default": {},
        "additionalProperties": {"type": "string", "minLength": MIN_REASON_LENGTH},
        "description": "Resource types the estimator cannot price that this stack accepts anyway: {type: reason}. "
                       "Any other unpriced type is a mandatory verdict.",
    },
    "approvalCeilingEur": {
        "type": "number", "default": DEFAULT_CEILING_EUR, "exclusiveMinimum": 0,
        "description": "The seeds' most a stack may cost with approval; a budget above it needs a recorded "
                       "approval of at least its amount and is reported with the drivers that exceed it.",
    },
    "serviceComponentTypes": {
        "type": "array", "items": {"type": "string"}, "default": ["microservices:platform:MeshService"],
        "description": "Component types whose resources belong to one service (for the per-service figures).",
    },
}

STACK_BUDGET = PolicySpec(
    name="stack-budget",
    description="The stack's monthly cost, estimated from its resources and platform/prices.yaml, stays within "
                "its aws:budgets/budget:Budget (or a recorded approval).",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation="Lower the named cost drivers (NAT strategy, endpoint AZs, task sizes and counts, Spot share), "
                "raise the budget, or record an approval (amount, reason, approver) on the budget.",
    unknowns="No budget or an unknown limitAmount: not applicable; resources with unknown sizes are left out of "
             "the estimate (a lower bound) and, within the budget, deferred to `pulumi up`.",
    check=check_stack_budget,
    stack=True,
    config=BUDGET_POLICY_KNOBS,
)

STACK_BUDGET_APPROVED_OVERRUN = PolicySpec(
    name="stack-budget-approved-overrun",
    description="The stack's estimated monthly cost exceeds its budget but stays within a recorded approval.",
    enforcement_level=EnforcementLevel.ADVISORY,
    severity=Severity.LOW,
    remediation="Nothing to do while the approval's reason holds; review it when the estimate grows.",
    unknowns="As stack-budget.",
    check=check_approved_overrun,
    stack=True,
    config=BUDGET_POLICY_KNOBS,
)
