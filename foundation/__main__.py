"""`python -m foundation preview --stack NAME`: run a stack offline and show what it would create."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from foundation.settings import ConfigError, list_stacks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m foundation")
    commands = parser.add_subparsers(dest="command", required=True)
    preview = commands.add_parser("preview", help="run a stack's program offline under the mock runtime")
    preview.add_argument("--stack", required=True, help=f"one of: {', '.join(list_stacks())}")
    preview.add_argument("--json", type=Path, metavar="FILE", help="write every registered resource as JSON")
    options = parser.parse_args(argv)

    from foundation.preview.render import render_text, write_json
    from foundation.preview.run import preview_stack

    try:
        result = preview_stack(options.stack)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(render_text(result))
    if options.json:
        write_json(result, options.json)
        print(f"\nWrote {len(result.recorder.resources)} resources to {options.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
