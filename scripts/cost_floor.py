"""Print what each seed requirement costs at its minimum in one Region (docs/cost-model.md, "Cost floor").

    python scripts/cost_floor.py [--region eu-central-1] [--azs 1] [--standby]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devkit.cost_floor import cost_floor, render_floor_markdown
from policies.cost.prices import PriceFileError, load_prices


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--region", default="eu-central-1", choices=("eu-central-1", "eu-west-1"))
    parser.add_argument("--azs", type=int, default=1, choices=(1, 2, 3), help="AZs of the interface endpoints")
    parser.add_argument("--standby", action="store_true",
                        help="a warm standby: one task per service, the pair's Region switch plan")
    args = parser.parse_args(argv)
    try:
        prices = load_prices()
    except PriceFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(render_floor_markdown(cost_floor(prices, args.region, args.azs, args.standby), args.region,
                                standby=args.standby))
    return 0


if __name__ == "__main__":
    sys.exit(main())
