"""docs/operating.md quotes the tables scripts/observability_tables.py prints, row for row."""

import contextlib
import importlib.util
import io
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_table_row_the_script_prints_is_in_the_operating_docs():
    spec = importlib.util.spec_from_file_location("observability_tables", ROOT / "scripts" / "observability_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        module.main()
    rows = [line for line in printed.getvalue().splitlines() if line.startswith("| `")]
    docs = (ROOT / "docs" / "operating.md").read_text()
    assert rows and [row for row in rows if row not in docs] == []
