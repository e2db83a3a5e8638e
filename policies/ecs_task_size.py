"""Fargate task definitions use a CPU/memory pair Fargate accepts.

The table is AWS's list of valid Linux Fargate task sizes
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-cpu-memory-error.html).
``cpu``/``memory`` are strings: CPU units / MiB (``"1024"``) or ``"1 vCPU"`` / ``"2 GB"``.
Only task definitions whose ``requiresCompatibilities`` contains ``FARGATE`` are judged.

Unknown values: cpu, memory and requiresCompatibilities are literals in any sane program; an
unknown value cannot be shown to be valid and is reported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .framework import Finding, PolicySpec, ResourceView
from .values import as_list, is_unknown


def _steps(start: int, stop: int, step: int) -> tuple[int, ...]:
    return tuple(range(start, stop + 1, step))


FARGATE_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: _steps(1024, 4096, 1024),
    1024: _steps(2048, 8192, 1024),
    2048: _steps(4096, 16384, 1024),
    4096: _steps(8192, 30720, 1024),
    8192: _steps(16384, 61440, 4096),
    16384: _steps(32768, 122880, 8192),
}

_VCPU = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*vcpu\s*$", re.I)
_GB = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*gb\s*$", re.I)


def parse_units(value: Any, unit_pattern: re.Pattern[str]) -> int | None:
    """'1024' -> 1024, '1 vCPU'/'2 GB' -> 1024/2048; None if not parseable."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.isdigit():
        return int(text)
    match = unit_pattern.match(text)
    if match:
        return int(float(match.group(1)) * 1024)
    return None


def check_fargate_size(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    compatibilities = resource.props.get("requiresCompatibilities")
    if not is_unknown(compatibilities) and "FARGATE" not in as_list(compatibilities):
        return []
    cpu_raw, memory_raw = resource.props.get("cpu"), resource.props.get("memory")
    if is_unknown(compatibilities) or is_unknown(cpu_raw) or is_unknown(memory_raw):
        return [Finding("cpu, memory or requiresCompatibilities is unknown during preview, so the Fargate size "
                        "cannot be verified. Use literal values from the Fargate size table.")]
    if cpu_raw is None or memory_raw is None:
        return [Finding("Fargate requires task-level cpu and memory; set both (e.g. cpu='512', memory='1024').")]
    cpu, memory = parse_units(cpu_raw, _VCPU), parse_units(memory_raw, _GB)
    if cpu not in FARGATE_SIZES:
        return [Finding(f"cpu={cpu_raw!r} is not a Fargate CPU size; use one of "
                        f"{', '.join(str(c) for c in FARGATE_SIZES)} CPU units.")]
    allowed = FARGATE_SIZES[cpu]
    if memory not in allowed:
        return [Finding(f"memory={memory_raw!r} is not valid with cpu={cpu_raw!r} on Fargate (registration fails with "
                        f"'No Fargate configuration exists for given values'); with cpu {cpu} use memory "
                        f"{allowed[0]}-{allowed[-1]} MiB in steps of {allowed[1] - allowed[0]}.")]
    return []


FARGATE_TASK_SIZE = PolicySpec(
    name="fargate-task-size",
    description="Fargate task definitions use a valid task-level CPU/memory combination.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    remediation="Pick cpu/memory from the Fargate task size table (e.g. 256/512, 512/1024, 1024/2048).",
    unknowns="Unknown cpu, memory or requiresCompatibilities is reported as unverifiable.",
    check=check_fargate_size,
    resource_types=frozenset({"aws:ecs/taskDefinition:TaskDefinition"}),
)
