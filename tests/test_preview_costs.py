"""The preview's cost section and the policy config it hands the budget policies (in process)."""

from __future__ import annotations

from types import SimpleNamespace

from devkit.cost_reference import reference_records
from devkit.costs import budget_policy_config, cost_lines, cost_markdown
from policies.cost.assumptions import UsageAssumptions
from policies.cost.estimator import estimate, resources_from_records
from policies.cost.prices import load_prices

RESULT = estimate(resources_from_records(reference_records()), load_prices(), default_region="eu-central-1")


def _preview(assumptions: UsageAssumptions):
    return SimpleNamespace(settings=SimpleNamespace(config=SimpleNamespace(cost_assumptions=assumptions)))


def test_text_and_markdown_show_total_components_services_and_drivers():
    text = "\n".join(cost_lines(RESULT, 100))
    markdown = cost_markdown(RESULT, 100, "ref")
    for shown in (text, markdown):
        assert f"€{RESULT.total_eur:.2f}" in shown and "budget €100.00" in shown
        assert "RegionalPlatform ref-platform" in shown and "api" in shown
        assert f"Fargate tasks (api) €{RESULT.by_driver()['Fargate tasks (api)']:.2f}" in shown


def test_json_carries_the_same_figures():
    document = RESULT.to_json()
    assert document["totalEur"] == round(RESULT.total_eur, 2)
    assert document["byService"] == {"api": round(RESULT.by_service()["api"], 2)}
    assert document["topDrivers"][0]["driver"] == "Fargate tasks (api)"


def test_the_stacks_cost_assumptions_reach_both_budget_policies_unless_config_sets_them():
    preview = _preview(UsageAssumptions(nat_gb_per_month=7))
    merged = budget_policy_config(preview, {"stack-budget-approved-overrun": "advisory",
                                            "stack-budget": {"costAssumptions": {"albLcu": 3}}})
    assert merged["stack-budget"]["costAssumptions"] == {"albLcu": 3}
    assert merged["stack-budget-approved-overrun"]["enforcementLevel"] == "advisory"
    assert merged["stack-budget-approved-overrun"]["costAssumptions"]["natGbPerMonth"] == 7
