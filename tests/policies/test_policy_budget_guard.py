"""stack-budget / stack-budget-approved-overrun, judged in process on ResourceViews."""

from __future__ import annotations

import pytest

from devkit.cost_reference import reference_records
from policies.budget_guard import (
    APPROVAL_REASON_TAG,
    APPROVED_EUR_TAG,
    APPROVER_TAG,
    STACK_BUDGET,
    STACK_BUDGET_APPROVED_OVERRUN,
    check_approved_overrun,
    check_stack_budget,
)
from policies.cost.estimator import estimate, resources_from_records
from policies.cost.prices import load_prices
from policies.framework import NotJudged, ResourceView

PRICES = load_prices()
RATE = PRICES.currency.eur_to_usd
ESTIMATE_EUR = estimate(resources_from_records(reference_records()), PRICES,
                        default_region="eu-central-1").total_eur
BUDGET_URN = "urn:pulumi:ref::microservices-foundation::aws:budgets/budget:Budget::ref-monthly"


def _views(budget_eur: float | None, tags: dict | None = None, limit_amount=None) -> list[ResourceView]:
    views = {}
    for record in reference_records():
        views[record["urn"]] = ResourceView(type=record["type"], name=record["name"], urn=record["urn"],
                                            props=dict(record["inputs"]), parent_urn=record["parent"],
                                            provider_props={"region": record["providerRegion"]}
                                            if record["providerRegion"] else None)
    if budget_eur is not None or limit_amount is not None:
        props = {"budgetType": "COST", "timeUnit": "MONTHLY", "limitUnit": "USD",
                 "limitAmount": limit_amount if limit_amount is not None else f"{budget_eur * RATE:.2f}"}
        if tags:
            props["tags"] = tags
        views[BUDGET_URN] = ResourceView(type="aws:budgets/budget:Budget", name="ref-monthly", urn=BUDGET_URN,
                                         props=props, provider_props={"region": "eu-central-1"})
    for view in views.values():
        view.parent = views.get(view.parent_urn)
    return list(views.values())


def _config(spec, **given):
    return spec.effective_config(given)


def _approval_tags(amount_eur: float) -> dict:
    return {APPROVED_EUR_TAG: f"{amount_eur:.0f}", APPROVAL_REASON_TAG: "five services at high availability in prod",
            APPROVER_TAG: "cfo@example.com"}


def test_estimate_within_the_budget_passes_both_policies():
    views = _views(ESTIMATE_EUR + 10)
    assert check_stack_budget(views, _config(STACK_BUDGET)) == []
    assert check_approved_overrun(views, _config(STACK_BUDGET_APPROVED_OVERRUN)) == []


def test_budget_below_the_estimate_is_mandatory_and_names_the_three_biggest_drivers():
    findings = check_stack_budget(_views(50), _config(STACK_BUDGET))
    assert len(findings) == 1 and findings[0].urn == BUDGET_URN
    message = findings[0].message
    assert f"€{ESTIMATE_EUR:.2f} exceeds the budget €50.00" in message
    assert "biggest cost drivers: Fargate tasks (api)" in message
    drivers = message.split("biggest cost drivers: ")[1].split(". ")[0]
    assert drivers.count("€") == 3
    assert check_approved_overrun(_views(50), _config(STACK_BUDGET_APPROVED_OVERRUN)) == []


def test_overrun_within_a_recorded_approval_on_the_budget_is_advisory_only():
    views = _views(50, tags=_approval_tags(ESTIMATE_EUR + 20))
    assert check_stack_budget(views, _config(STACK_BUDGET)) == []
    advisory = check_approved_overrun(views, _config(STACK_BUDGET_APPROVED_OVERRUN))
    assert len(advisory) == 1 and "Within the recorded approval" in advisory[0].message
    assert "cfo@example.com" in advisory[0].message


def test_overrun_above_the_approved_amount_is_mandatory():
    views = _views(50, tags=_approval_tags(ESTIMATE_EUR - 20))
    findings = check_stack_budget(views, _config(STACK_BUDGET))
    assert len(findings) == 1 and "exceeds the recorded approval" in findings[0].message
    assert check_approved_overrun(views, _config(STACK_BUDGET_APPROVED_OVERRUN)) == []


def test_approval_in_policy_config_counts_and_the_lower_of_two_approvals_wins():
    approval = {"amountEur": ESTIMATE_EUR + 20, "reason": "approved for the launch month only",
                "approver": "head-of-platform"}
    assert check_stack_budget(_views(50), _config(STACK_BUDGET, approval=approval)) == []
    low_tags = _views(50, tags=_approval_tags(ESTIMATE_EUR - 20))
    assert check_stack_budget(low_tags, _config(STACK_BUDGET, approval=approval))


def test_an_approval_without_a_reason_is_not_applied_and_the_message_says_why():
    tags = _approval_tags(ESTIMATE_EUR + 20)
    tags[APPROVAL_REASON_TAG] = "ok"
    findings = check_stack_budget(_views(50, tags=tags), _config(STACK_BUDGET))
    assert len(findings) == 1 and "reason needs at least 20 characters" in findings[0].message


def test_usage_assumptions_from_policy_config_change_the_estimate():
    budget = ESTIMATE_EUR + 1
    assert check_stack_budget(_views(budget), _config(STACK_BUDGET)) == []
    heavier = _config(STACK_BUDGET, costAssumptions={"natGbPerMonth": 1000})
    assert check_stack_budget(_views(budget), heavier)


def test_no_budget_resource_is_not_applicable():
    with pytest.raises(NotJudged):
        check_stack_budget(_views(None), _config(STACK_BUDGET))


def test_unknown_limit_amount_is_not_applicable():
    with pytest.raises(NotJudged):
        check_stack_budget(_views(None, limit_amount="04da6b54-80e4-46f7-96ec-b56ff0331ba9"), _config(STACK_BUDGET))


def test_a_broken_price_file_is_one_mandatory_finding(tmp_path):
    broken = tmp_path / "prices.yaml"
    broken.write_text("currency: [\n")
    findings = check_stack_budget(_views(50), _config(STACK_BUDGET, pricesFile=str(broken)))
    assert len(findings) == 1 and "not valid YAML" in findings[0].message and str(broken) in findings[0].message
    assert check_approved_overrun(_views(50), _config(STACK_BUDGET_APPROVED_OVERRUN, pricesFile=str(broken))) == []


def test_a_resource_of_unknown_size_within_the_budget_is_deferred_not_passed():
    views = _views(ESTIMATE_EUR + 10)
    task = next(v for v in views if v.type == "aws:ecs/taskDefinition:TaskDefinition")
    task.props["cpu"] = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    findings = check_stack_budget(views, _config(STACK_BUDGET))
    assert len(findings) == 1 and findings[0].deferred and "task cpu/memory unknown" in findings[0].message


def test_without_a_configured_value_the_stacks_own_cost_assumptions_are_read_from_its_stack_file(tmp_path):
    # The reference stack is named "ref": its Pulumi.ref.yaml assumes far more NAT traffic.
    (tmp_path / "Pulumi.ref.yaml").write_text(
        "config:\n  microservices-foundation:costAssumptions:\n    natGbPerMonth: 2000\n")
    budget = ESTIMATE_EUR + 1
    assert check_stack_budget(_views(budget), _config(STACK_BUDGET, stackConfigDir=str(tmp_path))) != []
    configured = _config(STACK_BUDGET, stackConfigDir=str(tmp_path), costAssumptions={"natGbPerMonth": 50})
    assert check_stack_budget(_views(budget), configured) == []


def test_invalid_stack_cost_assumptions_are_one_finding_naming_the_key(tmp_path):
    (tmp_path / "Pulumi.ref.yaml").write_text(
        "config:\n  microservices-foundation:costAssumptions:\n    natGbPerMonth: -1\n")
    findings = check_stack_budget(_views(50), _config(STACK_BUDGET, stackConfigDir=str(tmp_path)))
    assert len(findings) == 1 and "costAssumptions.natGbPerMonth" in findings[0].message


def test_the_two_budget_policies_of_one_request_share_one_estimate_and_another_request_gets_its_own(monkeypatch):
    from policies import budget_guard

    estimated = []
    monkeypatch.setattr(budget_guard, "estimate", lambda resources, *a, **k: estimated.append(resources) or
                        estimate(resources, *a, **k))
    views = _views(50, tags=_approval_tags(ESTIMATE_EUR + 5))
    assert check_stack_budget(views, _config(STACK_BUDGET)) == []
    assert len(check_approved_overrun(views, _config(STACK_BUDGET_APPROVED_OVERRUN))) == 1
    assert len(estimated) == 1
    # Another request's views (here: the same stack with a bigger task) are estimated anew, never served the last.
    heavier = _views(50, tags=_approval_tags(ESTIMATE_EUR + 5))
    task = next(v for v in heavier if v.type == "aws:ecs/taskDefinition:TaskDefinition")
    task.props["cpu"], task.props["memory"] = "4096", "8192"
    findings = check_stack_budget(heavier, _config(STACK_BUDGET))
    assert len(estimated) == 2 and len(findings) == 1 and "exceeds the recorded approval" in findings[0].message
    # So are the same views under other assumptions.
    check_stack_budget(views, _config(STACK_BUDGET, costAssumptions={"natGbPerMonth": 2000}))
    assert len(estimated) == 3


def test_an_edited_stack_file_is_read_again(tmp_path):
    stack_file = tmp_path / "Pulumi.ref.yaml"
    stack_file.write_text("config:\n  microservices-foundation:costAssumptions:\n    natGbPerMonth: 2000\n")
    config = _config(STACK_BUDGET, stackConfigDir=str(tmp_path))
    budget = ESTIMATE_EUR + 1
    assert check_stack_budget(_views(budget), config) != []
    stack_file.write_text("config:\n  microservices-foundation:costAssumptions:\n    natGbPerMonth: 20\n")
    assert check_stack_budget(_views(budget), config) == []
