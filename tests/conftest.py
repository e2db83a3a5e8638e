"""Shared fixtures: each stack's offline preview runs once per test session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from devkit.run import StackPreview, preview_stack

PROJECT_DIR = Path(__file__).resolve().parent.parent

_previews: dict[str, StackPreview] = {}


def stack_preview(stack: str) -> StackPreview:
    if stack not in _previews:
        _previews[stack] = preview_stack(stack)
    return _previews[stack]


@pytest.fixture(scope="session")
def staging() -> StackPreview:
    return stack_preview("staging")


@pytest.fixture(scope="session")
def prod() -> StackPreview:
    return stack_preview("prod")


@pytest.fixture(scope="session")
def staging_standby() -> StackPreview:
    return _standby("staging-euw1", "staging")


@pytest.fixture(scope="session")
def prod_standby() -> StackPreview:
    return _standby("prod-euw1", "prod")


def _standby(stack: str, primary: str) -> StackPreview:
    if stack not in _previews:
        _previews[stack] = preview_stack(stack, primary=stack_preview(primary))
    return _previews[stack]


@pytest.fixture(scope="session")
def minimal_staging_standby(tmp_path_factory: pytest.TempPathFactory) -> StackPreview:
    """staging-euw1 (after its primary, `.primary`) in a copy of the stack files without `dns` and without
    replicated data: a pair that reaches each region by its ALB name, HTTP only, each region with its own
    database."""
    project = tmp_path_factory.mktemp("minimal-pair")
    for source in PROJECT_DIR.glob("Pulumi*.yaml"):
        document = yaml.safe_load(source.read_text())
        if source.name in ("Pulumi.staging.yaml", "Pulumi.staging-euw1.yaml"):
            config = document["config"]
            config.pop("microservices-foundation:dns")
            failover = config.get("microservices-foundation:failover", {})
            for key in ("replicateData", "standbyDatabaseReaders"):
                failover.pop(key, None)
            if not failover:
                config.pop("microservices-foundation:failover", None)
        (project / source.name).write_text(yaml.safe_dump(document, sort_keys=False))
    shutil.copytree(PROJECT_DIR / "platform", project / "platform")
    primary = preview_stack("staging", project_dir=project)
    return preview_stack("staging-euw1", primary=primary, project_dir=project)
