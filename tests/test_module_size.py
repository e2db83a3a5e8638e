"""No module over 450 lines: a long module is split along its seams, or listed here with the reason."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 450
SOURCE_ROOTS = ("components", "foundation", "policies", "devkit", "bootstrap", "scripts", "tests")
# Path -> why it may be longer for now. Remove an entry as soon as its module is back under the limit
# (test_every_exemption_is_still_needed fails until then).
EXEMPT = {
    "policies/cost/estimator.py": "split in progress by issue 20 lane (cost)",
    "policies/iam_documents.py": "split in progress by issue 19 lane (pack)",
    "devkit/harness.py": "split in progress by issue 23 lane (speed)",
    "devkit/mocks.py": "split in progress by issue 23 lane (speed)",
    "tests/test_mesh_service.py": "test module other lanes add to in this round; split after their merge",
    "tests/test_platform_policies.py": "test module other lanes add to in this round; split after their merge",
    "tests/test_regional_platform.py": "test module other lanes add to in this round; split after their merge",
}


def line_counts() -> dict[str, int]:
    paths = [ROOT / "__main__.py", *(p for root in SOURCE_ROOTS for p in (ROOT / root).rglob("*.py"))]
    return {path.relative_to(ROOT).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
            for path in paths if "__pycache__" not in path.parts}


def test_no_module_is_over_the_line_limit_without_a_stated_reason() -> None:
    too_long = {path: lines for path, lines in line_counts().items() if lines > MAX_LINES and path not in EXEMPT}
    assert not too_long, f"modules over {MAX_LINES} lines (split them along their seams): {too_long}"


def test_every_exemption_is_still_needed() -> None:
    counts = line_counts()
    stale = sorted(path for path in EXEMPT if counts.get(path, 0) <= MAX_LINES)
    assert not stale, f"back under {MAX_LINES} lines or gone, remove from EXEMPT: {stale}"

