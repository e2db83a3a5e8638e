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
    lines += ["", "Outputs:"]
    for key, value in preview.outputs.items():
        if value is None:
            continue
        shown = "[secret]" if key in settings.secret_keys else _short(value)
        lines.append(f"  {key}: {shown}")
    return "\n".join(lines)


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
