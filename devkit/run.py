"""Run one stack's real program offline: config as Pulumi reads it, the mock runtime as the engine."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from devkit.mocks import Recorder, run_program
from foundation.settings import (PROJECT_DIR, ConfigError, StackSettings, load_from_pulumi, load_stack,
                                 read_stack_file)


@dataclass
class StackPreview:
    stack: str
    settings: StackSettings
    recorder: Recorder
    outputs: dict[str, Any]
    primary: Optional["StackPreview"] = None


def preview_stack(stack: str, primary: Optional[StackPreview] = None, unknowns: bool = False,
                  project_dir: Path = PROJECT_DIR) -> StackPreview:
    """Run `stack` of the project in `project_dir` under mocks. A standby's StackReference to its primary
    resolves to the primary's own offline preview outputs (run first here unless `primary` is given; a
    primary is deployed before its standby, so its outputs are known even when `unknowns` makes this
    stack's unknown)."""
    stack_file = read_stack_file(stack, project_dir)
    region = _region_of(stack_file.config, stack)
    settings = load_stack(stack, project_dir)
    project = settings.project
    primary_outputs = None
    if settings.role == "standby":
        primary_stack = settings.config.failover.primary_stack.rsplit("/", 1)[-1]
        primary = primary or preview_stack(primary_stack, project_dir=project_dir)
        primary_outputs = primary.outputs
    captured: dict[str, StackSettings] = {}

    def program():
        from foundation.stack import build

        settings = load_from_pulumi(project_dir)
        captured["settings"] = settings
        return build(settings)

    remote_outputs = {}
    if primary_outputs is not None:
        remote_outputs["pulumi:pulumi:StackReference"] = lambda inputs: {
            "name": inputs.get("name"), "outputs": primary_outputs, "secretOutputNames": []}
    recorder, outputs = run_program(
        program, project=project, stack=stack, region=region, config=stack_file.config,
        secret_keys=list(stack_file.secret_keys), remote_outputs=remote_outputs, unknowns=unknowns)
    return StackPreview(stack, captured["settings"], recorder, outputs or {}, primary)


def _region_of(config: dict[str, str], stack: str) -> str:
    region = config.get("aws:region")
    if not region:
        raise ConfigError(f"stack '{stack}': aws:region is required")
    return region
