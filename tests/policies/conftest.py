"""Policy tests call the checks in process with small resource views (``views.py``); only the harness
tests and the program-verdict tests drive the pack over gRPC. For those, the pack runs ONCE per test
session, started exactly as the engine starts it, through ``devkit.harness``.

Tests import the pack's modules as the package ``policies`` (the repository root is on ``sys.path``
through pytest.ini's ``pythonpath = .``).
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
