"""What the estimator works on and what it returns: a registered resource, its line items, the estimate.

docs/cost-model.md has the model; policies/cost/estimator.py prices the resources.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..values import is_known_text

STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass(frozen=True)
class CostResource:
    """A registered resource as the estimator needs it: wire (camelCase) inputs, region, parent."""

    urn: str
    type: str
    name: str
    inputs: Mapping[str, Any]
    region: str | None = None
    parent: str | None = None
    # A resource a provider creates (may cost money); False for components and the engine's own types.
    custom: bool = True


@dataclass(frozen=True)
class LineItem:
    """One monthly charge of one resource."""

    urn: str
    resource: str
    driver: str
    component: str
    service: str | None
    usd: float
    basis: str


@dataclass(frozen=True)
class Gap:
    """A resource the estimate leaves out. ``deferred``: its size is unknown during preview (the estimate is
    then a lower bound until `pulumi up`); otherwise nothing can price it, which the budget guard refuses."""

    urn: str
    resource: str
    type: str
    reason: str
    deferred: bool = False

    def __str__(self) -> str:
        return f"{self.resource} ({self.reason})"


@dataclass(frozen=True)
class Estimate:
    """A stack's monthly estimate; amounts in USD internally, EUR through :meth:`eur`."""

    items: tuple[LineItem, ...]
    eur_to_usd: float
    gaps: tuple[Gap, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def unpriced(self) -> tuple[str, ...]:
        return tuple(str(gap) for gap in self.gaps)

    def eur(self, usd: float) -> float:
        return usd / self.eur_to_usd

    @property
    def total_usd(self) -> float:
        return sum(item.usd for item in self.items)

    @property
    def total_eur(self) -> float:
        return self.eur(self.total_usd)

    def _grouped(self, key: Callable[[LineItem], str | None]) -> dict[str, float]:
        sums: dict[str, float] = defaultdict(float)
        for item in self.items:
            group = key(item)
            if group is not None:
                sums[group] += item.usd
        return {group: self.eur(usd) for group, usd in sorted(sums.items(), key=lambda kv: (-kv[1], kv[0]))}

    def by_component(self) -> dict[str, float]:
        """EUR per top-level component (outermost ancestor below the stack), largest first."""
        return self._grouped(lambda item: item.component)

    def by_service(self) -> dict[str, float]:
        """EUR per service (resources inside a service component), largest first."""
        return self._grouped(lambda item: item.service)

    def by_driver(self) -> dict[str, float]:
        """EUR per cost driver (e.g. "interface endpoints", "Fargate tasks (auth)"), largest first."""
        return self._grouped(lambda item: item.driver)

    def top_drivers(self, count: int = 3) -> list[tuple[str, float]]:
        return list(self.by_driver().items())[:count]

    def to_json(self) -> dict[str, Any]:
        def rounded(groups: dict[str, float]) -> dict[str, float]:
            return {k: round(v, 2) for k, v in groups.items()}

        return {
            "totalEur": round(self.total_eur, 2),
            "totalUsd": round(self.total_usd, 2),
            "eurToUsd": self.eur_to_usd,
            "byComponent": rounded(self.by_component()),
            "byService": rounded(self.by_service()),
            "topDrivers": [{"driver": d, "eur": round(e, 2)} for d, e in self.top_drivers(5)],
            "items": [{"resource": i.resource, "driver": i.driver, "component": i.component, "service": i.service,
                       "eur": round(self.eur(i.usd), 4), "basis": i.basis} for i in self.items],
            "unpriced": list(self.unpriced),
            "notes": list(self.notes),
        }


# --- adapters -------------------------------------------------------------------------------------

def resources_from_records(records: Iterable[Mapping[str, Any]]) -> list[CostResource]:
    """CostResources from the offline preview's ``--json`` records."""
    resources = []
    for record in records:
        inputs = record.get("inputs") or {}
        region = inputs.get("region") if is_known_text(inputs.get("region")) else record.get("providerRegion")
        resources.append(CostResource(urn=record["urn"], type=record["type"], name=record["name"], inputs=inputs,
                                      region=region, parent=record.get("parent"),
                                      custom=record.get("custom", True) is not False))
    return resources
