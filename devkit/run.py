"""Run one stack's real program offline: config as Pulumi reads it, the mock runtime as the engine."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devkit.mocks import Recorder, run_program
from foundation.settings import PROJECT_DIR, ConfigError, StackSettings, load_from_pulumi, load_stack, read_stack_file


@dataclass
class StackPreview:
    stack: str
    settings: StackSettings
    recorder: Recorder
    outputs: dict[str, Any]
    primary: StackPreview | None = None
    # Where a standby's primary outputs came from when its primary did not run in this process.
    primary_outputs_from: str | None = None


# A standby's StackReference resolves to its primary's preview outputs. They depend only on the inputs of
# the primary's program (stack files, platform data, the program's code), so they are kept on disk keyed
# by a digest of those inputs: a standby preview does not pay for its primary's program again while
# nothing the primary reads has changed. Anything read from elsewhere must be part of the digest.
DIGESTED_FILES = ("Pulumi.yaml", "Pulumi.*.yaml", "__main__.py", "platform/**/*.yaml", "components/**/*.py",
                  "foundation/**/*.py", "devkit/**/*.py")


def outputs_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "microservices-foundation" / "preview-outputs"


def inputs_digest(stack: str, project_dir: Path = PROJECT_DIR) -> str:
    """A digest of everything a stack's offline program reads (and the Python and SDK it runs on)."""
    import pulumi
    import pulumi_aws

    digest = hashlib.sha256(f"{stack}\0{sys.version}\0{pulumi.__file__}\0{pulumi_aws.__file__}".encode())
    files = sorted({path for pattern in DIGESTED_FILES for path in project_dir.glob(pattern) if path.is_file()})
    for path in files:
        digest.update(str(path.relative_to(project_dir)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _cache_path(stack: str, project_dir: Path) -> Path:
    return outputs_cache_dir() / f"{stack}-{inputs_digest(stack, project_dir)}.json"


def cached_outputs(stack: str, project_dir: Path = PROJECT_DIR) -> dict[str, Any] | None:
    try:
        return json.loads(_cache_path(stack, project_dir).read_text())
    except (OSError, ValueError):
        return None


def store_outputs(stack: str, outputs: dict[str, Any], project_dir: Path = PROJECT_DIR) -> None:
    """Best effort: a cache that cannot be written only costs the next standby preview its speed."""
    path = _cache_path(stack, project_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(outputs, sort_keys=True))
        temporary.replace(path)
    except (OSError, TypeError, ValueError):
        pass


def preview_stack(stack: str, primary: StackPreview | None = None, unknowns: bool = False,
                  project_dir: Path = PROJECT_DIR) -> StackPreview:
    """Run `stack` under mocks. A standby's StackReference to its primary resolves to the primary's
    own offline preview outputs (run first here unless `primary` is given; a primary is deployed
    before its standby, so its outputs are known even when `unknowns` makes this stack's unknown).
    `project_dir` holds the stack files (a copy of the project, e.g. in tests); the program itself
    reads the catalog from this checkout."""
    stack_file = read_stack_file(stack, project_dir)
    region = _region_of(stack_file.config, stack)
    settings = load_stack(stack, project_dir)
    project = settings.project
    primary_outputs, primary_outputs_from = None, None
    if settings.role == "standby":
        primary_stack = settings.primary_stack_name
        if primary is None:
            primary_outputs = cached_outputs(primary_stack, project_dir)
            if primary_outputs is not None:
                primary_outputs_from = f"the cached preview of '{primary_stack}' (its inputs are unchanged)"
        if primary_outputs is None:
            primary = primary or preview_stack(primary_stack, project_dir=project_dir)
            primary_outputs = primary.outputs
            primary_outputs_from = f"the preview of '{primary_stack}'"
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
    if settings.role == "primary" and not unknowns and outputs:
        store_outputs(stack, outputs, project_dir)
    return StackPreview(stack, captured["settings"], recorder, outputs or {}, primary, primary_outputs_from)


def _region_of(config: dict[str, str], stack: str) -> str:
    region = config.get("aws:region")
    if not region:
        raise ConfigError(f"stack '{stack}': aws:region is required")
    return region
