"""The cost floor of the seed requirements, and the docs that carry it."""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit.cost_floor import cost_floor, render_floor_markdown
from policies.cost.prices import load_prices

PRICES = load_prices()
DOC = Path(__file__).resolve().parents[1] / "docs" / "cost-model.md"


def test_every_seed_requirement_has_a_positive_floor():
    rows = cost_floor(PRICES)
    assert [row.requirement for row in rows] == ["VPC endpoints", "Private CA (Service Connect TLS)",
                                                 "Aurora global database", "HA tasks", "ALB", "Observability"]
    assert all(row.eur > 0 for row in rows)


def test_endpoints_in_more_azs_raise_only_the_endpoint_row():
    one, two = cost_floor(PRICES, azs=1), cost_floor(PRICES, azs=2)
    assert two[0].eur > one[0].eur and [r.eur for r in two[1:]] == [r.eur for r in one[1:]]


def test_the_private_ca_row_prices_the_short_lived_mode_ca():
    ca = next(r for r in cost_floor(PRICES) if r.requirement.startswith("Private CA"))
    monthly = PRICES.regions["eu-central-1"].private_ca_short_lived_month.usd / PRICES.currency.eur_to_usd
    assert monthly < ca.eur < monthly + 10


def test_the_docs_carry_the_floor_the_script_prints():
    assert render_floor_markdown(cost_floor(PRICES), "eu-central-1") in DOC.read_text(encoding="utf-8")


def test_the_docs_quote_the_two_azs_and_eu_west_1_totals_the_script_prints():
    text = DOC.read_text(encoding="utf-8")
    for rows in (cost_floor(PRICES, azs=2), cost_floor(PRICES, region="eu-west-1")):
        assert f"€{sum(row.eur for row in rows):.2f}" in text


def test_a_warm_standby_floor_runs_one_spot_task_per_service_and_carries_the_plan():
    active, standby = cost_floor(PRICES, region="eu-west-1"), cost_floor(PRICES, region="eu-west-1", standby=True)
    tasks = {r.requirement: r.eur for r in active}["HA tasks"]
    rows = {r.requirement: r.eur for r in standby}
    # One Spot task per service against the active Region's two.
    assert "HA tasks" not in rows and rows["Warm standby tasks"] == pytest.approx(tasks / 2)
    plan = PRICES.regions["eu-west-1"].arc_region_switch_plan_month.usd / PRICES.currency.eur_to_usd
    assert rows["Region switch plan"] == pytest.approx(plan, abs=0.01)


def test_the_docs_carry_the_standby_floor_the_script_prints():
    rows = cost_floor(PRICES, region="eu-west-1", standby=True)
    assert render_floor_markdown(rows, "eu-west-1", standby=True) in DOC.read_text(encoding="utf-8")
    assert f"€{sum(r.eur for r in cost_floor(PRICES, 'eu-west-1', 2, standby=True)):.2f}" in DOC.read_text(
        encoding="utf-8")
