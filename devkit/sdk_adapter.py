"""The one place where devkit touches private parts of the Pulumi Python SDK.

The offline preview plays the engine: it drives the SDK's mock runtime to completion, resets the
runtime between runs, turns wire structs back into values and speaks the engine's Analyzer gRPC
protocol to the policy pack. The SDK has no public API for any of that, so the names it needs are
imported here and nowhere else (tests/test_sdk_boundary.py enforces it). When an SDK upgrade breaks
the preview, this file is what to read and fix.

Checked against:
- pulumi 3.272.0, the version installed in the project venv; the whole test suite runs on it.
- pulumi 3.204.0, the floor in requirements.txt and policies/requirements.txt, by reading its source:
  every name below exists with the same signature. One difference: its `run_pulumi_func` does not
  await the function's return value; `settle()` awaits every pending task anyway, so a run completes
  the same way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from google.protobuf import struct_pb2
from pulumi.runtime import rpc as _rpc
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi.runtime.settings import SETTINGS as _SETTINGS
from pulumi.runtime.stack import run_pulumi_func as _run_pulumi_func
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

__all__ = [
    "CHECKED_PULUMI_VERSIONS",
    "UNKNOWN",
    "MockMonitor",
    "analyzer_pb2",
    "analyzer_pb2_grpc",
    "deserialize_properties",
    "ignore_unretrieved_failures",
    "reset_runtime",
    "run_program_function",
    "settle",
    "sync_await",
]

CHECKED_PULUMI_VERSIONS = ("3.204.0", "3.272.0")

# The engine's sentinel for a value unknown during preview, as the SDK marshals it.
UNKNOWN: str = _rpc.UNKNOWN

T = TypeVar("T")


def deserialize_properties(struct: struct_pb2.Struct, keep_unknowns: bool = False) -> Any:
    """A registration's wire struct as Python values (unknowns kept as UNKNOWN when asked)."""
    return _rpc.deserialize_properties(struct, keep_unknowns=keep_unknowns)


def sync_await(awaitable: Awaitable[T]) -> T:
    """Wait for `awaitable` on the SDK's own event loop, from synchronous code."""
    return _sync_await(awaitable)


def run_program_function(body: Callable[[], Awaitable[Any] | None]) -> None:
    """Run `body` as the SDK runs a program, until its outstanding registrations have finished."""
    _sync_await(_run_pulumi_func(body))


def settle(raise_failure: bool) -> None:
    """Finish every task still pending on the SDK's event loop.

    With `raise_failure`, re-raise the first failure: one the SDK recorded as unhandled, else one a
    pending task ended with. Registrations whose inputs fail late can still be pending when the
    runtime reports success, and their failure belongs to this run, not the next one."""
    loop = _ensure_event_loop()
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    results = loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True)) if pending else []
    if not raise_failure:
        return
    failure = _SETTINGS.rpc_manager.unhandled_exception or next(
        (r for r in results if isinstance(r, Exception)), None)
    if failure is not None:
        raise failure


def reset_runtime() -> None:
    """Forget the outstanding RPCs, recorded failures and outputs of an earlier run in this process."""
    _SETTINGS.rpc_manager.clear()
    _SETTINGS.outputs.clear()


def ignore_unretrieved_failures() -> None:
    """After a failed run, outputs that depended on the failed value hold the same exception; it has
    been raised once, so the loop should not log each of them again when they are collected."""
    _ensure_event_loop().set_exception_handler(_ignore_unretrieved_failures)


def _ignore_unretrieved_failures(loop: asyncio.AbstractEventLoop, context: dict) -> None:
    if context.get("message", "").startswith("Future exception was never retrieved"):
        return
    loop.default_exception_handler(context)
