"""The service's side of the platform contract, checked against a checkout of the platform repository:

* every event the catalog says this service publishes has examples in contract/events/<DetailType>.json (a
  JSON list of payloads, the same objects the service writes as the outbox item's `payload`), and each
  validates against the platform's schema platform/schemas/<service>/<DetailType>.json;
* every call in contract/calls.json ({"service", "method", "path"}) goes to a service this one lists in its
  catalog `calls`, and matches a route that service declares (`routes`, "METHOD /path/{param}").

Needs jsonschema and PyYAML (test dependencies, not the image's).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import yaml


def _catalog(platform_dir: Path) -> dict[str, Any]:
    services = yaml.safe_load((platform_dir / "platform" / "services.yaml").read_text())["services"]
    if not isinstance(services, dict):
        raise ValueError(f"{platform_dir}/platform/services.yaml has no services mapping")
    return services


def event_problems(service: str, platform_dir: Path, contract_dir: Path) -> list[str]:
    catalog = _catalog(platform_dir)
    if service not in catalog:
        return [f"{service!r} is not in the platform catalog (platform/services.yaml)"]
    published = list(catalog[service].get("publishes") or [])
    examples_dir = contract_dir / "events"
    problems = [f"contract/events/{path.name}: {service} does not publish {path.stem} (catalog publishes: "
                f"{published})" for path in sorted(examples_dir.glob("*.json")) if path.stem not in published]
    for detail_type in published:
        schema_path = platform_dir / "platform" / "schemas" / service / f"{detail_type}.json"
        examples_path = examples_dir / f"{detail_type}.json"
        if not schema_path.exists():
            problems.append(f"the platform has no schema platform/schemas/{service}/{detail_type}.json")
            continue
        if not examples_path.exists():
            problems.append(f"contract/events/{detail_type}.json is missing: give at least one example payload")
            continue
        examples = json.loads(examples_path.read_text())
        if not isinstance(examples, list) or not examples:
            problems.append(f"contract/events/{detail_type}.json must be a non-empty JSON list of payloads")
            continue
        validator = jsonschema.Draft202012Validator(json.loads(schema_path.read_text()))
        for i, example in enumerate(examples):
            for error in validator.iter_errors(example):
                where = ".".join(str(p) for p in error.absolute_path) or "(payload)"
                problems.append(f"contract/events/{detail_type}.json[{i}] {where}: {error.message}")
    return problems


def route_matches(route: str, method: str, path: str) -> bool:
    """Whether `METHOD /path/{param}` covers the call; a {param} stands for one non-empty path segment."""
    route_method, route_path = route.split(" ", 1)
    pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(route_path))
    return route_method == method and re.fullmatch(pattern, path.split("?", 1)[0]) is not None


def call_problems(service: str, platform_dir: Path, contract_dir: Path) -> list[str]:
    catalog = _catalog(platform_dir)
    if service not in catalog:
        return [f"{service!r} is not in the platform catalog (platform/services.yaml)"]
    path = contract_dir / "calls.json"
    calls = json.loads(path.read_text()) if path.exists() else []
    allowed = list(catalog[service].get("calls") or [])
    problems = []
    for i, call in enumerate(calls):
        callee, method, target = call.get("service"), str(call.get("method", "")).upper(), call.get("path", "")
        where = f"contract/calls.json[{i}] {method} {callee}{target}"
        if callee not in allowed:
            problems.append(f"{where}: {service} does not list {callee!r} in its catalog calls {allowed}; Service "
                            "Connect and the security groups let it reach only those")
            continue
        routes = list(catalog.get(callee, {}).get("routes") or [])
        if not any(route_matches(route, method, target) for route in routes):
            problems.append(f"{where}: {callee} declares no such route (routes: {routes})")
    return problems
