"""Print the reference stack's cost twice: worked out by hand from platform/prices.yaml, and as the
estimator computes it from the same resources (docs/cost-model.md, "Accuracy").

    python scripts/cost_reference.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devkit.cost_reference import hand_calculation, reference_records
from policies.cost.estimator import estimate, resources_from_records
from policies.cost.prices import PriceFileError, load_prices


def main() -> int:
    try:
        prices = load_prices()
    except PriceFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    rate = prices.currency.eur_to_usd
    lines = hand_calculation(prices)
    print("| Item | Arithmetic (USD) | USD/month |")
    print("|---|---|---:|")
    for line in lines:
        print(f"| {line.item} | {line.arithmetic} | {line.usd:.2f} |")
    hand = sum(line.usd for line in lines)
    result = estimate(resources_from_records(reference_records()), prices)
    print()
    print(f"Hand calculation: {hand:.2f} USD = €{hand / rate:.2f} (at {rate:g} USD/EUR)")
    print(f"Estimator:        {result.total_usd:.2f} USD = €{result.total_eur:.2f}")
    print(f"Difference:       {result.total_usd - hand:+.6f} USD")
    print("Estimator per component: " + ", ".join(f"{k} €{v:.2f}" for k, v in result.by_component().items()))
    print("Estimator per service:   " + ", ".join(f"{k} €{v:.2f}" for k, v in result.by_service().items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
