"""The policy pack runs ONCE per test session, started exactly as the engine starts it.

Tests import the pack's modules as the package ``policies`` (the repository root is on
``sys.path`` through pytest.ini's ``pythonpath = .``) and drive the running pack over gRPC
through ``devkit.harness``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devkit.harness import PolicyPackAnalyzer


@pytest.fixture(scope="session")
def running_pack() -> Iterator[PolicyPackAnalyzer]:
    with PolicyPackAnalyzer(stack="test") as pack:
        yield pack


@pytest.fixture
def pack(running_pack: PolicyPackAnalyzer) -> Iterator[PolicyPackAnalyzer]:
    """The session's pack with default config; a test may reconfigure it, and it is reset after."""
    yield running_pack
    running_pack.configure()
