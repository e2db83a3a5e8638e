"""What `new-service` costs: each target stack's monthly estimate without and with the service, and the
budget verdict the stack-budget policy would reach (over the budget is refused unless a recorded
approval covers it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from foundation.settings import load_stack


@dataclass(frozen=True)
class CostVerdict:
    """One stack's monthly estimate before and after the service, against its budget (and approval)."""

    stack: str
    before_eur: float
    after_eur: float
    budget_eur: float
    approved_eur: float | None = None

    @property
    def ceiling_eur(self) -> float:
        return self.approved_eur if self.approved_eur is not None else self.budget_eur

    @property
    def breaks(self) -> bool:
        # The stack-budget policy's rule: over the budget is mandatory unless a recorded approval covers it.
        return self.after_eur > self.ceiling_eur + 0.005

    def line(self) -> str:
        delta = self.after_eur - self.before_eur
        if self.breaks:
            ceiling = "budget" if self.approved_eur is None else f"approved €{self.approved_eur:.2f}"
            verdict = f"BREAKS the {ceiling} by €{self.after_eur - self.ceiling_eur:.2f}"
        elif self.after_eur > self.budget_eur + 0.005:
            verdict = f"over the budget, within the recorded approval of €{self.approved_eur:.2f}"
        else:
            verdict = f"within the budget, €{self.budget_eur - self.after_eur:.2f} left"
        return (f"{self.stack}: €{self.before_eur:.2f} -> €{self.after_eur:.2f} per month ({delta:+.2f}), "
                f"budget €{self.budget_eur:.2f}: {verdict}")


# What makes a new service cheaper, as the new-service flags say it (docs/cost-model.md has the levers).
BUDGET_LEVERS = ("--min-tasks 1", "--interruptible (where the service loses nothing on Spot's two-minute notice, "
                 "it runs on the stack's Spot share)", "smaller --cpu/--memory")

CostsOf = Callable[[Path, list[str]], dict[str, float]]


def stack_costs(project_dir: Path, stacks: list[str]) -> dict[str, float]:
    """EUR per month of each stack as its offline preview estimates it (primaries before their standbys)."""
    from devkit.costs import stack_estimate
    from devkit.run import preview_stack

    previews: dict[str, Any] = {}
    costs: dict[str, float] = {}
    for stack in stacks:
        settings = load_stack(stack, project_dir)
        primary = None
        reference = settings.config.failover.primary_stack
        if settings.role == "standby" and reference is not None:
            primary = previews.get(reference.rsplit("/", 1)[-1])
        previews[stack] = preview_stack(stack, primary=primary, project_dir=project_dir)
        costs[stack] = stack_estimate(previews[stack]).total_eur
    return costs


def budget_refusal(name: str, verdicts: list[CostVerdict]) -> str | None:
    broken = [v for v in verdicts if v.breaks]
    if not broken:
        return None
    stacks = ", ".join(f"Pulumi.{v.stack}.yaml" for v in broken)
    return (f"{name} would take {', '.join(v.stack for v in broken)} over budget "
            f"({'; '.join(v.line() for v in broken)}). Nothing was written. Make it cheaper ("
            f"{', '.join(BUDGET_LEVERS)}), or record the overrun as budget.approval.{{amountEur,reason,approver}} "
            f"in {stacks} (amountEur at least {max(v.after_eur for v in broken):.2f}) and run it again.")
