"""Which environment a resource belongs to: taken from the stack it is deployed by, never from its tags.

A resource's own tags are written by the same program the pack judges, so a tag saying
``environment: staging`` on a resource of the prod stack would exempt it from prod's rules. The stack
name is in every URN (``urn:pulumi:<stack>::<project>::...``), which the engine writes, so the pack
maps the stack name to an environment with the ``stackEnvironments`` knob: a list of
``{"stack": <glob>, "environment": <name>}``, first match wins.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from typing import Any

STACK_ENVIRONMENTS_KNOB: dict[str, Any] = {
    "type": "array",
    "items": {"type": "object", "properties": {"stack": {"type": "string"}, "environment": {"type": "string"}},
              "required": ["stack", "environment"]},
    "default": [{"stack": "prod", "environment": "prod"}, {"stack": "prod-*", "environment": "prod"},
                {"stack": "staging", "environment": "staging"}, {"stack": "staging-*", "environment": "staging"}],
    "description": "Stack-name globs and the environment each stands for (first match wins); the environment "
                   "comes from the stack, not from a resource's tags.",
}


def stack_of(urn: str) -> str:
    """The stack name a URN names (``urn:pulumi:<stack>::...``); '' if it is not a URN."""
    head = urn.split("::", 1)[0]
    return head[len("urn:pulumi:"):] if head.startswith("urn:pulumi:") else ""


def environment_of(urn: str, stack_environments: Sequence[Mapping[str, Any]]) -> str | None:
    """The environment of the stack that deploys ``urn``, or None when no entry matches the stack name."""
    stack = stack_of(urn)
    for entry in stack_environments:
        if isinstance(entry, Mapping) and fnmatch.fnmatchcase(stack, str(entry.get("stack", ""))):
            return str(entry.get("environment"))
    return None
