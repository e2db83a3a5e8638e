"""Synthetic service catalogs for scale tests and the preview benchmark (never read by the program).

`synthetic_catalog(n)` keeps the real catalog's services and adds generated ones up to `n`, half of them
routed. The call graph is shaped like a real one: every routed (edge) service calls a shared
authentication-like hub and often a second hub, and each service calls one to three deeper internal
services, so a few internal services have very many callers (the fan-in that outgrows per-edge security
group rules) while no service calls more than `max_calls` others. Deterministic for a given seed.
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any

from foundation.settings import CATALOG_FILE
from foundation.settings.yaml_files import load_yaml

MAX_TASK_CHOICES = (4, 6, 8, 10)
IMAGE_TAG = "1.0.0"


def synthetic_catalog(n: int, *, routed_fraction: float = 0.5, max_calls: int = 4, seed: int = 14) -> dict[str, Any]:
    """The raw platform/services.yaml mapping with `n` services (the real ones first)."""
    base = copy.deepcopy(load_yaml(CATALOG_FILE, "the service catalog"))
    services: dict[str, Any] = base["services"]
    if n < len(services):
        raise ValueError(f"a synthetic catalog keeps the {len(services)} real services; ask for at least that many")
    rng = random.Random(seed)
    routed_target = round(n * routed_fraction)
    routed_now = sum(1 for s in services.values() if s.get("pathPrefix"))
    next_priority = max((s.get("listenerRulePriority") or 0) for s in services.values()) + 10
    new_routed = [f"edge-{i:03d}" for i in range(1, max(0, routed_target - routed_now) + 1)]
    new_internal = [f"core-{i:03d}" for i in range(1, n - len(services) - len(new_routed) + 1)]
    hubs = new_internal[:2]
    for index, name in enumerate(new_internal):
        deeper = new_internal[index + 1:]
        calls = rng.sample(deeper, k=min(len(deeper), rng.randint(0, 2))) if index >= len(hubs) else []
        services[name] = _service(rng, calls[:max_calls])
    for name in new_routed:
        calls = [hubs[0]] if hubs else []
        if len(hubs) > 1 and rng.random() < 0.5:
            calls.append(hubs[1])
        candidates = new_internal[len(hubs):]
        calls += rng.sample(candidates, k=min(len(candidates), rng.randint(1, 3)))
        services[name] = _service(rng, calls[:max_calls], path=f"/api/{name}", priority=next_priority)
        next_priority += 10
    return base


def _service(rng: random.Random, calls: list[str], *, path: str | None = None,
             priority: int | None = None) -> dict[str, Any]:
    service: dict[str, Any] = {
        "port": 8080, "healthPath": "/health", "cpu": 256, "memory": 512, "architecture": "ARM64",
        "minTasks": 2, "maxTasks": rng.choice(MAX_TASK_CHOICES), "calls": calls,
        "secrets": ["api-key"] if rng.random() < 0.3 else [], "config": {"FEATURE_FLAGS": "default"},
    }
    if path is not None:
        service |= {"pathPrefix": path, "listenerRulePriority": priority}
    return service


SYNTHETIC_APPROVAL_EUR = 100_000


def enable_all(stack_config: dict[str, Any], catalog: dict[str, Any], project: str = "microservices-foundation") -> dict[str, Any]:
    """A copy of a stack file's config that runs every catalog service (existing image overrides kept)."""
    config = copy.deepcopy(stack_config)
    key = f"{project}:services"
    services = config.get(key) or {}
    if isinstance(services, str):  # stack files hand structured values over as JSON text, as Pulumi does
        services = json.loads(services)
    overrides = dict(services.get("overrides") or {})
    for name in catalog["services"]:
        overrides.setdefault(name, {"image": IMAGE_TAG})
    config[key] = {"enabled": list(catalog["services"]), "overrides": overrides}
    # The budget guard rightly refuses N services at the five-service approval; a synthetic catalog
    # records its own approval so that the scale run judges everything else (its estimate is printed).
    budget_key = f"{project}:budget"
    budget = config.get(budget_key) or {}
    if isinstance(budget, str):
        budget = json.loads(budget)
    if budget:
        config[budget_key] = {**budget, "approval": {
            "amountEur": SYNTHETIC_APPROVAL_EUR, "approver": "platform-team",
            "reason": "synthetic scale catalog - benchmark and quota checks only"}}
    return config
