"""Shared fixtures: each stack's offline preview runs once per test session."""

from __future__ import annotations

import pytest

from devkit.run import StackPreview, preview_stack

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
