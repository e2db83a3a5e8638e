"""The stack's estimated monthly cost stays within the budget it registers.

The estimate is recomputed here from the stack's resources and the shared price file
(``policies/cost``), never read from a figure the program reports. The budget is the
``limitAmount`` (USD) of each monthly COST ``aws:budgets/budget:Budget`` in the stack,
converted with ``currency.eurToUsd`` of the same price file.

An overrun may be approved: an approval records an amount in EUR, a reason and an approver,
either as tags on the budget resource (``budget-approved-eur``, ``budget-approval-reason``,
``budget-approver``) or in this policy's ``approval`` config knob; when both exist the lower
amount counts. Estimate above the budget but within the approved amount: reported by the
ADVISORY ``stack-budget-approved-overrun``; above the approved amount, or without a valid
approval: MANDATORY ``stack-budget``. Every message names the three biggest cost drivers.

Unknown values: no budget resource, or an unknown ``limitAmount``: not applicable. A resource
whose size is unknown during preview is left out of the estimate, which is then a lower bound: an
overrun is still reported, and within the budget the unpriced resources are deferred to ``pulumi up``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pulumi_policy import EnforcementLevel, Severity
from pydantic import ValidationError

from .cost.assumptions import UsageAssumptions
from .cost.estimator import CostResource, Estimate, estimate
from .cost.prices import PACK_DIR, PriceFileError, load_prices
from .cost.tags import APPROVAL_REASON_TAG, APPROVED_EUR_TAG, APPROVER_TAG
from .framework import Finding, NotJudged, PolicySpec, ResourceView, deferred
from .values import is_known_text, is_unknown

BUDGET_TYPE = "aws:budgets/budget:Budget"
MIN_REASON_LENGTH = 20


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
        value = float(amount)
    except (TypeError, ValueError):
        return None, f"{where}: the approved amount {amount!r} is not a number of EUR"
    if not value > 0:
        return None, f"{where}: the approved amount must be positive"
    if not (isinstance(reason, str) and len(reason.strip()) >= MIN_REASON_LENGTH):
        return None, f"{where}: the reason needs at least {MIN_REASON_LENGTH} characters"
    if not (isinstance(approver, str) and approver.strip()):
        return None, f"{where}: the approver is missing"
    return Approval(value, reason.strip(), approver.strip()), None


def _approval(budget: ResourceView, config: Mapping[str, Any]) -> tuple[Approval | None, str | None]:
    raw_tags = budget.props.get("tags")
    tags = raw_tags if isinstance(raw_tags, Mapping) else {}
    from_tags, tag_problem = _approval_from(tags.get(APPROVED_EUR_TAG), tags.get(APPROVAL_REASON_TAG),
                                            tags.get(APPROVER_TAG), "budget tags")
    raw_given = config.get("approval")
    given = raw_given if isinstance(raw_given, Mapping) else {}
    from_config, config_problem = _approval_from(given.get("amountEur"), given.get("reason"), given.get("approver"),
                                                 "policy config 'approval'")
    approvals = [a for a in (from_tags, from_config) if a is not None]
    if approvals:
        return min(approvals, key=lambda a: a.amount_eur), None
    return None, tag_problem or config_problem


def _resources(views: list[ResourceView]) -> list[CostResource]:
    return [CostResource(urn=v.urn, type=v.type, name=v.name, inputs=v.props, region=v.region, parent=v.parent_urn)
            for v in views]


def _stack_region(views: list[ResourceView]) -> str | None:
    regions = [v.region for v in views if v.type.startswith("aws:") and v.region]
    return max(set(regions), key=regions.count) if regions else None


def stack_cost_assumptions(views: list[ResourceView], config: Mapping[str, Any]) -> Mapping[str, Any]:
    """The stack's own ``costAssumptions``: the policy config's knob when set, else the key
    ``<project>:costAssumptions`` of ``Pulumi.<stack>.yaml`` in ``stackConfigDir`` (stack and project from
    the URNs), so that `pulumi preview --policy-pack policies` judges what the preview prints."""
    if config.get("costAssumptions"):
        return config["costAssumptions"]
    parts = views[0].urn.split("::") if views else []
    if len(parts) < 2:
        return {}
    stack, project = parts[0].rsplit(":", 1)[-1], parts[1]
    directory = Path(str(config["stackConfigDir"]))
    path = (directory if directory.is_absolute() else PACK_DIR / directory) / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        return {}
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise ValueError(f"{path.name} is not valid YAML: {error}") from None
    found = (document.get("config") or {}).get(f"{project}:costAssumptions") if isinstance(document, dict) else None
    return found if isinstance(found, Mapping) else {}


def budget_checks(views: list[ResourceView], config: Mapping[str, Any]) -> list[BudgetCheck]:
    """Every monthly COST budget of the stack judged against the recomputed estimate."""
    budgets = [v for v in views if v.type == BUDGET_TYPE
               and v.props.get("budgetType", "COST") == "COST" and v.props.get("timeUnit") == "MONTHLY"]
    if not budgets:
        raise NotJudged(f"the stack registers no monthly COST {BUDGET_TYPE}; there is no budget to compare with")
    prices_file = Path(str(config["pricesFile"]))
    prices = load_prices(prices_file if prices_file.is_absolute() else PACK_DIR / prices_file)
    try:
        assumptions = UsageAssumptions.model_validate(stack_cost_assumptions(views, config))
    except ValidationError as error:
        first = error.errors()[0]
        raise ValueError(f"costAssumptions.{'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    result = estimate(_resources(views), prices, assumptions, default_region=_stack_region(views),
                      service_component_types=config["serviceComponentTypes"])
    checks = []
    for budget in budgets:
        amount, unit = budget.props.get("limitAmount"), budget.props.get("limitUnit")
        if is_unknown(amount) or is_unknown(unit):
            raise NotJudged(f"{budget.label()}: limitAmount is unknown during preview; judged at update")
        if unit != "USD" or not is_known_text(amount):
            raise ValueError(f"{budget.label()}: limitAmount {amount!r} {unit!r} is not an amount in USD")
        limit_usd = float(str(amount))
        approval, problem = _approval(budget, config)
        checks.append(BudgetCheck(urn=budget.urn, label=budget.label(), budget_eur=limit_usd / prices.currency.eur_to_usd,
                                  limit_usd=limit_usd, estimate=result, approval=approval, approval_problem=problem))
    return checks


def _judge(views: list[ResourceView], config: Mapping[str, Any], approved: bool) -> list[Finding]:
    try:
        checks = budget_checks(views, config)
    except (PriceFileError, ValueError) as error:
        if approved:
            return []  # reported once, by the mandatory policy
        return [Finding(f"the cost estimate cannot be computed: {error}")]
    findings = []
    for check in checks:
        if check.over and check.within_approval == approved:
            findings.append(Finding(check.message(), urn=check.urn))
        unknown = [item for item in check.estimate.unpriced if "unknown" in item]
        if unknown and not approved and not check.over:
            # Resources whose size is unknown during preview are left out: the estimate is a lower bound.
            findings.append(deferred(f"the estimate (€{check.estimate.total_eur:.2f}) leaves out what is unknown "
                                     f"during preview: {'; '.join(unknown)}", urn=check.urn))
    return findings


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
        "properties": {"amountEur": {"type": "number", "exclusiveMinimum": 0},
                       "reason": {"type": "string", "minLength": MIN_REASON_LENGTH},
                       "approver": {"type": "string", "minLength": 1}},
        "description": "A recorded approval of an overrun: amountEur, reason, approver.",
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
