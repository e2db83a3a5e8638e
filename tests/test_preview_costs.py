"""The preview's cost section and the policy config it hands the budget policies (in process)."""

from __future__ import annotations

from devkit.cost_reference import reference_records
from devkit.costs import cost_lines, cost_markdown
from policies.cost.estimator import estimate, resources_from_records
from policies.cost.prices import load_prices

RESULT = estimate(resources_from_records(reference_records()), load_prices(), default_region="eu-central-1")



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
