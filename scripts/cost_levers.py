"""Print what each stack costs per month and what the cost levers would change, by running the real
program offline for every variant (README "What it costs", docs/cost-model.md). About 3 s per variant.

    python scripts/cost_levers.py                 # staging: levers table + one more service
    python scripts/cost_levers.py --stack prod
    python scripts/cost_levers.py --totals        # every stack as configured, per component/service
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devkit.cost_levers import (
    lever_table,
    one_more_service,
    render_levers_markdown,
    standard_levers,
    standby_levers,
    variant_runner,
)
from foundation.settings import ConfigError, list_stacks, load_catalog
from policies.cost.estimator import estimate, resources_from_records
from policies.cost.prices import PriceFileError, load_prices


def _settings(stack: str):
    from foundation.settings import load_stack

    return load_stack(stack)


def totals(prices) -> None:
    print("| Stack | €/month | Budget watched € | Per component | Per service |")
    print("|---|---:|---:|---|---|")
    for stack in list_stacks():
        settings = _settings(stack)
        records = variant_runner(stack)({})
        result = estimate(resources_from_records(records), prices, settings.config.cost_assumptions,
                          default_region=settings.region)
        components = ", ".join(f"{k} {v:.0f}" for k, v in result.by_component().items())
        services = ", ".join(f"{k} {v:.0f}" for k, v in result.by_service().items())
        print(f"| {stack} | {result.total_eur:.2f} | {settings.config.budget.watched_eur:.2f} | {components} "
              f"| {services} |")


def levers(stack: str, prices) -> None:
    settings = _settings(stack)
    # Levers keep the stack's own usage assumptions (costAssumptions).
    assumptions = settings.config.cost_assumptions
    enabled = list(settings.config.services.enabled)
    run = variant_runner(stack)
    chosen = standard_levers(enabled, settings.config.network.az_count)
    if settings.role == "standby":
        chosen += standby_levers(enabled)
    base, rows = lever_table(run, chosen, prices, assumptions, region=settings.region)
    print(render_levers_markdown(stack, base, rows))
    catalog = load_catalog().services
    # A typical addition: a catalog service whose callees already run in the stack.
    spare = [name for name, spec in catalog.items() if name not in enabled and set(spec.calls) <= set(enabled)]
    if spare and settings.role == "primary":
        # The new service gets the overrides the stack gives its first service (architecture, task
        # counts), with a placeholder image tag: the tag does not change the cost.
        template = settings.config.services.overrides.get(enabled[0])
        overrides = template.model_dump(by_alias=True, exclude_none=True) if template else {}
        overrides.pop("cpu", None), overrides.pop("memory", None)
        overrides["image"] = "1.0.0"
        added = one_more_service(run, enabled, spare[0], prices, assumptions, region=settings.region,
                                 extra_overrides=overrides)
        print(f"\nOne more typical service ({spare[0]}, its catalog size, this stack's overrides) adds "
              f"€{added:.2f} per month.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/cost_levers.py")
    parser.add_argument("--stack", default="staging")
    parser.add_argument("--totals", action="store_true", help="every stack's estimate as configured")
    options = parser.parse_args(argv)
    try:
        prices = load_prices()
        totals(prices) if options.totals else levers(options.stack, prices)
    except (PriceFileError, ConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
