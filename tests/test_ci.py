"""CI runs exactly what the README tells a developer to run."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_test_command() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^# 2\. [^\n]*\n(?P<command>[^\n]+)\n", readme, re.MULTILINE)
    assert match, "the README's first screen has no step 2 with the test command"
    return match["command"].strip()


def test_ci_runs_the_readme_test_command() -> None:
    script = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
              if line.strip() and not line.lstrip().startswith("#")]
    assert script[-1] == readme_test_command()


def test_the_readme_test_command_lints_type_checks_and_tests() -> None:
    steps = [step.strip() for step in readme_test_command().split("&&")]
    assert steps == ["ruff check .", "mypy", "python -m pytest"]
