"""Print the permission table's size and, per stack, the gaps of its deploy and preview roles.

    python scripts/permission_closure.py [--all]

Runs the four stacks and bootstrap/ offline (the mock runtime), expands every registered resource into
the IAM requests its create, read, update and delete make (devkit/permissions), and judges each against
the role that deploys or previews the stack. Exit 1 when a gap remains. docs/permission-closure.md.
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devkit.permissions.closure import (
    STACKS,
    StackRun,
    closure,
    granted_beyond_the_table,
    load_bootstrap_module,
    table_size,
)
from devkit.run import StackPreview, preview_stack


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--all", action="store_true", help="list every gap, not only the first per action")
    args = parser.parse_args()
    previews: dict[str, StackPreview] = {}
    runs = []
    for stack, primary in STACKS:
        previews[stack] = preview_stack(stack, primary=previews.get(primary) if primary else None)
        runs.append(StackRun(stack, primary, previews[stack].settings.account_id or "123456789012",
                             previews[stack].recorder.resources, previews[stack].recorder.invokes))
    rows, types, actions = table_size()
    print(f"permission table: {rows} rows, {types} resource types, {actions} distinct actions")
    total = 0
    for deploy, preview in closure(runs):
        print(f"{deploy.stack}: {deploy.requests} deploy requests, {len(deploy.gaps)} gaps; "
              f"{preview.requests} preview requests, {len(preview.gaps)} gaps; "
              f"{len(deploy.undecidable)} undecidable offline")
        for report in (deploy, preview):
            total += len(report.gaps)
            seen: collections.Counter[str] = collections.Counter()
            for gap in report.gaps:
                seen[gap.action] += 1
                if args.all or seen[gap.action] == 1:
                    print(f"  gap: {gap}")
            for action, count in sorted(seen.items()):
                if count > 1 and not args.all:
                    print(f"    ({count - 1} more {action})")
        for item in deploy.undecidable:
            print(f"  undecidable: {item.resource} {item.operation} {item.action}: {item.reason}")
    beyond = granted_beyond_the_table(load_bootstrap_module())
    print(f"granted to the deploy roles but required by no row: {len(beyond)}: {' '.join(beyond)}")
    print(f"total gaps: {total}")
    return 1 if total else 0


if __name__ == "__main__":
    raise SystemExit(main())
