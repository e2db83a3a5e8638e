"""Combining Outputs at the cost of one Output, whatever the number and nesting of the values combined.

`pulumi.Output.all(a, b, ...)` first makes every argument an Output of its own (`Output.from_input`): each
Output argument gets an `apply` whose result is lifted again into a new Output, and a list or dict value gets
an Output per element and per key, recursively. Each of those is an asyncio task, a future and a reference
cycle the collector has to find, and a program of 200 services combined tens of thousands of them.

`all_values` and `lift` give what `Output.all` and `Output.from_input` give (the same value, the same
resources, hence the same dependencies of whatever takes it as an input, the same known- and secretness,
unknowns marked the same way) as one Output: `resolve` awaits each Output's data and copies plain lists,
tuples and dicts the way the SDK's lifting rebuilds them, instead of making an Output of each part. Values
the SDK lifts through machinery of its own (input-type objects, awaitables, dicts keyed by other than
strings, anything else it does not take apart) go to `Output.from_input` as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
from typing import Any, TypeVar

import pulumi
from pulumi.output import UNKNOWN, Unknown, contains_unknowns

T = TypeVar("T")
U = TypeVar("U")

# (value, is_known, is_secret, resources): what an Output resolves to.
Resolved = tuple[Any, bool, bool, "set[pulumi.Resource]"]

_SCALARS = (str, int, float, bool, type(None))


async def resolve(value: Any) -> Resolved:
    """What `pulumi.Output.from_input(value)` resolves to, without the Outputs it makes on the way."""
    if isinstance(value, pulumi.Output):
        return await _resolve_output(value)
    if isinstance(value, _SCALARS):
        return value, True, False, set()
    if isinstance(value, Unknown):
        return value, False, False, set()
    if type(value) in (list, tuple) or (isinstance(value, dict) and all(isinstance(key, str) for key in value)):
        if not value:  # the SDK takes an empty container as a prompt value: the same object
            return value, True, False, set()
        items = list(value.values()) if isinstance(value, dict) else value
        parts = [await resolve(item) for item in items]
        known = all(part[1] for part in parts)
        secret = any(part[2] for part in parts)
        resources: set[pulumi.Resource] = set().union(*(part[3] for part in parts))
        values = [part[0] for part in parts]
        if isinstance(value, dict):
            return dict(zip(value, values, strict=True)), known, secret, resources
        if isinstance(value, tuple):
            # The SDK makes a tuple again in an `apply`, which does not run on an unknown list.
            return (tuple(values) if known else None), known, secret, resources
        return values, known, secret, resources
    return await _data(pulumi.Output.from_input(value))


async def _data(output: pulumi.Output[Any]) -> Resolved:
    return (await output.future(with_unknowns=True), await output.is_known(), await output.is_secret(),
            await output.resources())


async def _resolve_output(output: pulumi.Output[Any]) -> Resolved:
    # `from_input` of an Output: an apply that runs on unknowns too (an unknown value without unknown parts
    # becomes UNKNOWN), whose result is lifted in turn and keeps the outer resources and secretness.
    value, known, secret, resources = await _data(output)
    if not known and not contains_unknowns(value):
        value = UNKNOWN
    inner_value, inner_known, inner_secret, inner_resources = await resolve(value)
    return inner_value, inner_known, secret or inner_secret, resources | inner_resources


def lift(value: pulumi.Input[T]) -> pulumi.Output[T]:
    """`pulumi.Output.from_input(value)` as one Output."""
    data = asyncio.ensure_future(resolve(value))
    return pulumi.Output(_Field(data, 3), _Field(data, 0), _Field(data, 1), _Field(data, 2))


class _Field:
    """One field of the resolved data, awaitable as often as asked. Not a coroutine: when resolving fails, the
    Output stops at its first field, and a coroutine never awaited would be reported as such."""

    __slots__ = ("_data", "_index")

    def __init__(self, data: asyncio.Future[Resolved], index: int) -> None:
        self._data, self._index = data, index

    def __await__(self) -> Generator[Any, None, Any]:
        resolved = yield from self._data.__await__()
        return resolved[self._index]


def all_values(*values: pulumi.Input[Any]) -> pulumi.Output[list[Any]]:
    """`pulumi.Output.all(*values)` as one Output."""
    return lift(list(values))


def concat(*parts: pulumi.Input[str]) -> pulumi.Output[str]:
    """`pulumi.Output.concat(*parts)` as two Outputs."""
    return all_values(*parts).apply("".join)


def apply(value: pulumi.Input[T], func: Callable[[T], pulumi.Input[U]]) -> pulumi.Output[U]:
    """`pulumi.Output.from_input(value).apply(func)`: an Output's own apply when `value` is one (lifting
    an Output of a plain value first changes nothing `apply` passes on), else the lifted value's."""
    if isinstance(value, pulumi.Output):
        return value.apply(func)
    return pulumi.Output.from_input(value).apply(func)
