"""Text and JSON views of an offline preview."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from foundation.preview.mocks import UNKNOWN, RecordedResource, to_plain
from foundation.preview.run import StackPreview


def owning_component(resource: RecordedResource, by_urn: dict[str, RecordedResource]) -> str:
    """The outermost component (below the stack) a resource belongs to, as `type name`."""
    owner = None
    current = resource
    while current.parent and current.parent in by_urn:
        current = by_urn[current.parent]
        if not current.custom:
            owner = current
    if owner is None:
        return "(stack)" if resource.custom else f"{resource.type} {resource.name}"
    return f"{owner.type} {owner.name}"


def resource_summary(preview: StackPreview) -> dict[str, Counter]:
    by_urn = {r.urn: r for r in preview.recorder.resources}
    groups: dict[str, Counter] = defaultdict(Counter)
    for resource in preview.recorder.resources:
        if resource.custom:
            groups[owning_component(resource, by_urn)][resource.type] += 1
    return groups


def render_text(preview: StackPreview) -> str:
    settings = preview.settings
    lines = [f"Stack {preview.stack}: {settings.environment} {settings.role} in {settings.region} "
             f"(offline preview, mock runtime)", ""]
    groups = resource_summary(preview)
    total = sum(sum(c.values()) for c in groups.values())
    lines.append(f"Resources: {total}")
    for component in sorted(groups):
        counts = groups[component]
        lines.append(f"  {component}  ({sum(counts.values())})")
        for typ, count in sorted(counts.items()):
            lines.append(f"    {count:>3}  {typ}")
    lines += ["", "Failover:"] + [f"  {line}" for line in failover_lines(preview)]
    lines += ["", "Outputs:"]
    for key, value in preview.outputs.items():
        if value is None:
            continue
        shown = "[secret]" if key in settings.secret_keys else _short(value)
        lines.append(f"  {key}: {shown}")
    return "\n".join(lines)


def failover_lines(preview: StackPreview) -> list[str]:
    settings = preview.settings
    failover = settings.config.failover
    estimate = settings.failover_time()
    lines = []
    if settings.role == "standby":
        lines.append(f"reads primary stack {failover.primary_stack} through one StackReference"
                     + (f" (resolved offline from the preview of '{preview.primary.stack}')" if preview.primary else ""))
    records = [r for r in preview.recorder.of_type("aws:route53/record:Record") if r.inputs.get("failoverRoutingPolicies")]
    for record in records:
        policy = record.inputs["failoverRoutingPolicies"][0]["type"]
        target = record.inputs["aliases"][0]["name"]
        lines.append(f"{policy} record {record.inputs['name']} -> {target}")
    if not records:
        lines.append("no DNS failover (no dns.domain configured)")
    verdict = "meets" if estimate.meets_objective else "misses"
    lines.append(f"RTO implied by the wiring: {estimate.summary()}; {verdict} the objective of "
                 f"{failover.rto_objective_minutes:g} min (target <= 2 min)")
    return lines


def _short(value: Any) -> str:
    text = json.dumps(to_plain(value)) if not isinstance(value, str) else value
    return text.replace(UNKNOWN, "[unknown]")


def write_json(preview: StackPreview, path: Path) -> None:
    document = {
        "stack": preview.stack,
        "environment": preview.settings.environment,
        "region": preview.settings.region,
        "role": preview.settings.role,
        "resources": preview.recorder.to_json(),
        "outputs": to_plain(preview.outputs),
    }
    path.write_text(json.dumps(document, indent=2, sort_keys=False))
