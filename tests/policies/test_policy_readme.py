"""The policy table in policies/README.md is the one the PolicySpecs generate."""

from __future__ import annotations

from policies.generate_readme_table import BEGIN, END, README, render_table, with_table
from policies.pack import SPECS


def test_the_committed_policy_table_matches_the_specs():
    readme = README.read_text(encoding="utf-8")
    assert readme == with_table(readme, SPECS), "run: python -m policies.generate_readme_table"


def test_the_table_has_one_row_per_spec_with_its_level_and_description():
    readme = README.read_text(encoding="utf-8")
    table = readme[readme.index(BEGIN) + len(BEGIN):readme.index(END)]
    rows = {line.split(" | ")[0].strip("| `"): line.split(" | ") for line in table.splitlines() if line.startswith("| `")}
    for spec in SPECS:
        row = rows[spec.name]
        assert row[1] == spec.enforcement_level.value and row[4] == " ".join(spec.description.split())


def test_a_changed_spec_makes_the_committed_table_stale():
    from dataclasses import replace

    readme = README.read_text(encoding="utf-8")
    changed = (replace(SPECS[0], description="something else entirely"),) + SPECS[1:]
    assert with_table(readme, changed) != readme
    assert "something else entirely" in render_table(changed)
