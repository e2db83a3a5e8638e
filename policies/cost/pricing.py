"""Shared lookups of the pricers: value parsing, the resource graph, and the base that records line items.

The pricers themselves live by concern (compute, network, managed services); policies/cost/estimator.py
puts them together.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from ..values import get_path, is_known_text, is_unknown
from .assumptions import UsageAssumptions
from .model import STACK_TYPE, CostResource, Gap, LineItem
from .prices import PriceBook, RegionPrices

# --- helpers --------------------------------------------------------------------------------------

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(vcpu|gb)?\s*$", re.IGNORECASE)


def _size(value: Any, whole_unit: str) -> float | None:
    """A task size in whole units: "1024" (CPU units or MiB, 1024 to the unit) or "1 vCPU" / "2 GB"."""
    if is_unknown(value) or value is None:
        return None
    match = _SIZE.match(str(value))
    if not match:
        return None
    number, unit = float(match.group(1)), (match.group(2) or "").lower()
    return number if unit == whole_unit else number / 1024


def cpu_vcpu(value: Any) -> float | None:
    """Task cpu as vCPUs: "1024" (units) or "1 vCPU"."""
    return _size(value, "vcpu")


def memory_gb(value: Any) -> float | None:
    """Task memory as GB: "2048" (MiB) or "2 GB"."""
    return _size(value, "gb")


def number(value: Any) -> float | None:
    if is_unknown(value) or value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def arn_tail(value: Any) -> str | None:
    """The name at the end of an ARN-ish reference (``.../cluster/NAME``, ``.../family:3``)."""
    if not is_known_text(value):
        return None
    return str(value).rsplit("/", 1)[-1]


def split_tasks(tasks: float, strategy: Sequence[Mapping[str, Any]]) -> tuple[float, float]:
    """(on-demand, Spot) share of ``tasks`` under a capacity provider strategy: the ``base`` tasks
    go to their provider first, the rest is split by ``weight`` (ECS's documented placement)."""
    remaining = tasks
    on_demand = spot = 0.0
    for entry in strategy:
        base = min(number(entry.get("base")) or 0.0, remaining)
        if entry.get("capacityProvider") == "FARGATE_SPOT":
            spot += base
        else:
            on_demand += base
        remaining -= base
    weights = [(entry.get("capacityProvider"), number(entry.get("weight")) or 0.0) for entry in strategy]
    total = sum(weight for _, weight in weights)
    if remaining > 0 and total > 0:
        spot_weight = sum(weight for provider, weight in weights if provider == "FARGATE_SPOT")
        spot += remaining * spot_weight / total
        on_demand += remaining * (total - spot_weight) / total
    elif remaining > 0:
        on_demand += remaining
    return on_demand, spot


# --- the resource graph --------------------------------------------------------------------------

class Context:
    """Lookups over the whole resource list that several pricers share."""

    def __init__(self, resources: Sequence[CostResource], service_component_types: frozenset[str]):
        self.by_urn = {r.urn: r for r in resources}
        self.by_type: dict[str, list[CostResource]] = defaultdict(list)
        for r in resources:
            self.by_type[r.type].append(r)
        self.service_component_types = service_component_types
        # Lookups that would otherwise scan a type's resources for every resource that asks (a service for its
        # scaling target and task definition...), built once per type and key: the estimate stays linear.
        self._chains: dict[str | None, list[CostResource]] = {}
        self._inputs: dict[tuple[str, str], dict[str, list[CostResource]]] = {}
        self._children: dict[str, dict[str | None, list[CostResource]]] = {}
        self._service_names: dict[str, str] = {}
        for r in resources:
            tag = get_path(r.inputs, "tags", "service")
            owner = self.service_component(r)
            if owner is not None and is_known_text(tag):
                self._service_names.setdefault(owner.urn, tag)

    def ancestors(self, resource: CostResource) -> list[CostResource]:
        """The resource's ancestors, its parent first, up to the stack (the same for its siblings: one walk per
        parent). Callers only read the list."""
        if resource.parent not in self._chains:
            self._chains[resource.parent] = self._walk_up(resource)
        return self._chains[resource.parent]

    def _walk_up(self, resource: CostResource) -> list[CostResource]:
        chain, seen, parent = [], set(), resource.parent
        while parent and parent in self.by_urn and parent not in seen:
            seen.add(parent)
            node = self.by_urn[parent]
            if node.type == STACK_TYPE:
                break
            chain.append(node)
            parent = node.parent
        return chain

    def component(self, resource: CostResource) -> str:
        chain = self.ancestors(resource)
        top = chain[-1] if chain else None
        return f"{top.type.rsplit(':', 1)[-1]} {top.name}" if top else "(stack)"

    def service_component(self, resource: CostResource) -> CostResource | None:
        return next((a for a in self.ancestors(resource) if a.type in self.service_component_types), None)

    def service(self, resource: CostResource) -> str | None:
        owner = self.service_component(resource)
        if owner is None:
            return None
        return self._service_names.get(owner.urn, owner.name)

    def siblings(self, resource: CostResource, type_: str) -> list[CostResource]:
        """The resources of ``type_`` with the same parent, in the stack's order."""
        if type_ not in self._children:
            children: dict[str | None, list[CostResource]] = defaultdict(list)
            for r in self.by_type.get(type_, []):
                children[r.parent].append(r)
            self._children[type_] = dict(children)
        return list(self._children[type_].get(resource.parent, []))

    def with_input(self, type_: str, key: str, value: str) -> list[CostResource]:
        """The resources of ``type_`` whose input ``key`` equals ``value``, in the stack's order."""
        if (type_, key) not in self._inputs:
            index: dict[str, list[CostResource]] = defaultdict(list)
            for r in self.by_type.get(type_, []):
                found = r.inputs.get(key)
                if isinstance(found, str):
                    index[found].append(r)
            self._inputs[(type_, key)] = dict(index)
        return list(self._inputs[(type_, key)].get(value, []))


class PricerBase:
    """The state every pricer shares: the graph, prices, assumptions and what has been priced so far."""

    def __init__(self, resources: Sequence[CostResource], prices: PriceBook, assumptions: UsageAssumptions,
                 default_region: str | None, service_component_types: frozenset[str]):
        self.ctx = Context(resources, service_component_types)
        self.prices = prices
        self.usage = assumptions
        self.hours = prices.hours_per_month
        self.default_region = default_region
        self.items: list[LineItem] = []
        self.gaps: list[Gap] = []
        self.notes: list[str] = []
        self.nat_count = len(resources and self.ctx.by_type.get("aws:ec2/natGateway:NatGateway", []))

    def add(self, resource: CostResource, driver: str, usd: float, basis: str) -> None:
        if usd <= 0:
            return
        self.items.append(LineItem(urn=resource.urn, resource=f"{resource.type} '{resource.name}'", driver=driver,
                                   component=self.ctx.component(resource), service=self.ctx.service(resource),
                                   usd=usd, basis=basis))

    def gap(self, resource: CostResource, reason: str, deferred: bool = False) -> None:
        """Leave ``resource`` out of the estimate, saying why (never a silent zero)."""
        self.gaps.append(Gap(urn=resource.urn, resource=f"{resource.type} '{resource.name}'", type=resource.type,
                             reason=reason, deferred=deferred))

    def region_prices(self, resource: CostResource) -> RegionPrices | None:
        return self.prices.region(resource.region or self.default_region)
