"""The README's cost figures are the estimator's figures for the stacks as committed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from devkit.costs import stack_estimate

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
SECTION = README.split("## What it costs", 1)[1].split("\n## ", 1)[0]


@pytest.mark.parametrize(("fixture", "stack"), [("staging", "staging"), ("staging_standby", "staging-euw1"),
                                                ("prod", "prod"), ("prod_standby", "prod-euw1")])
def test_the_readme_total_of_each_stack_is_its_estimate_and_the_budget_it_watches(request, fixture, stack):
    preview = request.getfixturevalue(fixture)
    total = stack_estimate(preview).total_eur
    watched = preview.settings.config.budget.watched_eur
    assert re.search(rf"{re.escape(stack)} \*\*€{total:.2f}\*\* \(approved €{watched:.0f}\)", SECTION), stack


def test_the_levers_table_starts_from_stagings_estimate(request):
    total = stack_estimate(request.getfixturevalue("staging")).total_eur
    assert f"Stack `staging` as configured: **€{total:.2f}** per month." in SECTION
    # The row of the stack's own setting changes nothing.
    assert f"| NAT gateways | single | {total:.2f} | +0.00 |" in SECTION


@pytest.mark.parametrize("fixture", ["staging", "staging_standby", "prod", "prod_standby"])
def test_every_resource_the_four_stacks_register_is_priced_or_declared_free(request, fixture):
    assert stack_estimate(request.getfixturevalue(fixture)).gaps == ()
