"""The preview's monthly cost estimate: per stack, component and service, in text, JSON and Markdown.

The figure comes from the same estimator, price file and stack ``costAssumptions`` the stack-budget
policy uses (policies/cost; the policy reads the assumptions from Pulumi.<stack>.yaml itself).
"""

from __future__ import annotations

from devkit.run import StackPreview
from policies.cost.estimator import Estimate, estimate, resources_from_records
from policies.cost.prices import load_prices


def stack_estimate(preview: StackPreview) -> Estimate:
    """The stack's monthly estimate from what its program registered."""
    return estimate(resources_from_records(preview.recorder.to_json()), load_prices(),
                    preview.settings.config.cost_assumptions, default_region=preview.settings.region)


def cost_lines(result: Estimate, budget_eur: float) -> list[str]:
    lines = [f"Monthly cost estimate: €{result.total_eur:.2f} (budget €{budget_eur:.2f}; list prices, "
             "platform/prices.yaml; assumptions: costAssumptions)"]
    lines += ["  per component:"] + [f"    {name}: €{eur:.2f}" for name, eur in result.by_component().items()]
    if result.by_service():
        lines += ["  per service:"] + [f"    {name}: €{eur:.2f}" for name, eur in result.by_service().items()]
    lines.append("  biggest drivers: " + ", ".join(f"{d} €{e:.2f}" for d, e in result.top_drivers(3)))
    lines += [f"  note: {note}" for note in result.notes]
    lines += [f"  unpriced: {item}" for item in result.unpriced]
    return lines


def cost_markdown(result: Estimate, budget_eur: float, stack: str) -> str:
    lines = [f"### Monthly cost estimate for {stack}: €{result.total_eur:.2f} (budget €{budget_eur:.2f})", "",
             "| Component | €/month |", "|---|---:|"]
    lines += [f"| {name} | {eur:.2f} |" for name, eur in result.by_component().items()]
    if result.by_service():
        lines += ["", "| Service | €/month |", "|---|---:|"]
        lines += [f"| {name} | {eur:.2f} |" for name, eur in result.by_service().items()]
    lines += ["", "Biggest drivers: " + ", ".join(f"{d} €{e:.2f}" for d, e in result.top_drivers(3))]
    lines += [f"- note: {note}" for note in result.notes] + [f"- unpriced: {item}" for item in result.unpriced]
    return "\n".join(lines) + "\n"
