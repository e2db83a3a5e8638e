"""Render policy verdicts like ``pulumi preview --policy-pack`` does, as text and as Markdown.

Both renderers take the :class:`~devkit.harness.Diagnostic` list the harness returns.
Verdicts are grouped by pack, ordered mandatory first, then by policy and resource; each shows
the level, the policy, the resource (type and name) and the message. A summary line counts the
verdicts per enforcement level; ``passed()`` says whether a preview may proceed (no mandatory).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from devkit.harness import Diagnostic

LEVEL_ORDER = ("mandatory", "remediate", "advisory", "disabled")
_LEVEL_ICON = {"mandatory": "❌", "remediate": "🔧", "advisory": "⚠️", "disabled": "⏸"}


def passed(diagnostics: Iterable[Diagnostic]) -> bool:
    """True when no verdict blocks the deployment (the engine fails on mandatory ones)."""
    return not any(d.enforcement_level == "mandatory" for d in diagnostics)


def level_counts(diagnostics: Iterable[Diagnostic]) -> Counter:
    return Counter(d.enforcement_level for d in diagnostics)


def _sorted(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    def key(d: Diagnostic):
        level = LEVEL_ORDER.index(d.enforcement_level) if d.enforcement_level in LEVEL_ORDER else len(LEVEL_ORDER)
        return (d.policy_pack, level, d.policy_name, d.urn, d.message)

    return sorted(diagnostics, key=key)


def _resource(d: Diagnostic) -> str:
    return f"{d.resource_type}: {d.resource_name}" if d.urn else "stack"


def summary_line(diagnostics: Sequence[Diagnostic]) -> str:
    counts = level_counts(diagnostics)
    if not diagnostics:
        return "No policy violations."
    parts = [f"{counts[level]} {level}" for level in LEVEL_ORDER if counts[level]]
    verdict = "FAILED" if not passed(diagnostics) else "passed"
    return f"Policy verdicts: {', '.join(parts)} ({verdict})."


def _packs(diagnostics: Sequence[Diagnostic]) -> list[tuple[str, list[Diagnostic]]]:
    packs: dict[str, list[Diagnostic]] = {}
    for d in _sorted(diagnostics):
        packs.setdefault(f"{d.policy_pack}@v{d.policy_pack_version}", []).append(d)
    return list(packs.items())


def render_text(diagnostics: Sequence[Diagnostic]) -> str:
    """Plain text in the shape of the CLI's "Policies:" section."""
    lines = ["Policies:"]
    if not diagnostics:
        lines.append("    ✅ no violations")
    for pack, items in _packs(diagnostics):
        icon = "❌" if not passed(items) else ("⚠️" if items else "✅")
        lines.append(f"    {icon} {pack}")
        for d in items:
            lines.append(f"        - [{d.enforcement_level}]  {d.policy_name}  ({_resource(d)})")
            for text_line in d.detail.splitlines() or [""]:
                lines.append(f"          {text_line}")
    lines += ["", summary_line(diagnostics)]
    return "\n".join(lines)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def render_markdown(diagnostics: Sequence[Diagnostic], title: str = "Policy verdicts") -> str:
    """Markdown for a pull-request comment: a summary, then one table per pack."""
    counts = level_counts(diagnostics)
    lines = [f"### {title}", ""]
    if not diagnostics:
        lines.append("✅ No policy violations.")
        return "\n".join(lines) + "\n"
    lines.append(("❌ **Blocked**" if not passed(diagnostics) else "✅ **Passed**") + " — " +
                 ", ".join(f"{_LEVEL_ICON.get(level, '')} {counts[level]} {level}"
                           for level in LEVEL_ORDER if counts[level]))
    for pack, items in _packs(diagnostics):
        lines += ["", f"**{pack}**", "", "| Level | Policy | Resource | Message |", "|---|---|---|---|"]
        for d in items:
            resource = f"`{d.resource_type}` `{d.resource_name}`" if d.urn else "stack"
            lines.append(f"| {_LEVEL_ICON.get(d.enforcement_level, '')} {d.enforcement_level} | `{d.policy_name}` | "
                         f"{resource} | {_md_cell(d.detail)} |")
    return "\n".join(lines) + "\n"
