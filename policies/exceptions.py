"""The acknowledgement mechanism: documented, reasoned exceptions to a policy.

Format (policy config, per policy, as `pulumi preview --policy-pack-config` takes it)::

    {"no-wildcard-iam": {"exceptions": [
        {"resource": "*::exec-role-policy", "reason": "AWS requires ecr:GetAuthorizationToken on *"}
    ]}}

``resource`` is a glob (``fnmatch``, case-sensitive) matched against the resource's URN and
against its logical name; ``reason`` must be at least 20 characters. An optional ``policy``
field is allowed so entries can be copied from the flat list format
(``[{"policy", "resource", "reason"}]``) that ``devkit/harness.py`` accepts; if given
it must name the policy whose config holds it.

Why findings go through an "outbox": pulumi-policy 1.21 reports every violation of a policy at
that policy's enforcement level, and a policy only sees its own config. So the policy that owns
the exception list decides which of its findings are acknowledged, and hands those to the
``acknowledged-findings`` / ``acknowledged-stack-findings`` policies (ADVISORY), which run last in
the same Analyze / AnalyzeStack request (pulumi-policy runs a pack's policies in list order, one
after the other) and report them as ``acknowledged: <reason>``. Nothing is dropped silently.

A malformed exception (missing field, reason shorter than 20 characters, wrong policy name) is
never applied; it is reported as a violation of the owning policy, at that policy's level, on
every resource its pattern matches (resource policies) or once per stack (stack policies).
"""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

MIN_REASON_LENGTH = 20

# JSON schema of the `exceptions` knob every policy carries; the Pulumi CLI validates policy
# config against it, and the pack re-validates because other callers may not.
EXCEPTIONS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "description": (
        "Acknowledged exceptions: findings on matching resources are reported as ADVISORY "
        f"'acknowledged: <reason>'. reason needs at least {MIN_REASON_LENGTH} characters."
    ),
    "default": [],
    "items": {
        "type": "object",
        "properties": {
            "policy": {"type": "string"},
            "resource": {"type": "string", "minLength": 1},
            "reason": {"type": "string", "minLength": MIN_REASON_LENGTH},
        },
        "required": ["resource", "reason"],
    },
}


class PolicyException(BaseModel):
    """One well-formed exception."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    resource: str = Field(min_length=1)
    reason: str
    policy: str | None = None

    @field_validator("reason")
    @classmethod
    def _reason_long_enough(cls, reason: str) -> str:
        if len(reason.strip()) < MIN_REASON_LENGTH:
            raise ValueError(
                f"reason must explain the exception in at least {MIN_REASON_LENGTH} characters "
                f"(got {len(reason.strip())})"
            )
        return reason.strip()

    def matches(self, urn: str, name: str) -> bool:
        return fnmatch.fnmatchcase(urn, self.resource) or fnmatch.fnmatchcase(name, self.resource)


@dataclass(frozen=True)
class MalformedException:
    """An exception entry that cannot be applied, with the reason why."""

    index: int
    entry: Any
    problem: str

    @property
    def pattern(self) -> str | None:
        if isinstance(self.entry, Mapping) and isinstance(self.entry.get("resource"), str):
            return self.entry["resource"]
        return None

    def matches(self, urn: str, name: str) -> bool:
        """Whether this broken entry was meant for the resource (pattern-less entries match all)."""
        pattern = self.pattern
        if pattern is None:
            return True
        return fnmatch.fnmatchcase(urn, pattern) or fnmatch.fnmatchcase(name, pattern)

    def message(self, policy_name: str) -> str:
        return (
            f"malformed policy exception #{self.index} for '{policy_name}' ({self.entry!r}) is NOT applied: "
            f"{self.problem}. Fix it in the policy config: {{\"{policy_name}\": {{\"exceptions\": "
            f"[{{\"resource\": \"<urn or name glob>\", \"reason\": \"<why, >= {MIN_REASON_LENGTH} chars>\"}}]}}}}"
        )


@dataclass(frozen=True)
class ExceptionList:
    valid: tuple[PolicyException, ...] = ()
    malformed: tuple[MalformedException, ...] = ()

    def match(self, urn: str, name: str) -> PolicyException | None:
        for exception in self.valid:
            if exception.matches(urn, name):
                return exception
        return None


def parse_exceptions(policy_name: str, entries: Any) -> ExceptionList:
    """Split a policy's ``exceptions`` config into well-formed and malformed entries."""
    if entries is None:
        return ExceptionList()
    if not isinstance(entries, list):
        return ExceptionList(malformed=(MalformedException(0, entries, "exceptions must be a list"),))
    valid: list[PolicyException] = []
    malformed: list[MalformedException] = []
    for index, entry in enumerate(entries):
        try:
            exception = PolicyException.model_validate(entry)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'entry'}: {e['msg']}" for e in error.errors()
            )
            malformed.append(MalformedException(index, entry, problems))
            continue
        if exception.policy is not None and exception.policy != policy_name:
            malformed.append(MalformedException(
                index, entry, f"it names policy '{exception.policy}' but sits in the config of '{policy_name}'"))
            continue
        valid.append(exception)
    return ExceptionList(tuple(valid), tuple(malformed))


@dataclass(frozen=True)
class AcknowledgedFinding:
    policy_name: str
    urn: str
    reason: str
    message: str

    def render(self) -> str:
        return f"acknowledged: {self.reason}\n[{self.policy_name}] {self.message}"


STACK_KEY = "<stack>"


@dataclass
class AcknowledgementOutbox:
    """Hands acknowledged findings from the owning policy to the advisory reporter.

    Keyed by the URN of the resource being analyzed (resource policies) or :data:`STACK_KEY`
    (stack policies). The gRPC server runs requests on a thread pool, hence the lock; entries of
    one request never mix with another's because each Analyze request is for one URN.
    """

    _items: dict[str, list[AcknowledgedFinding]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, key: str, finding: AcknowledgedFinding) -> None:
        with self._lock:
            self._items.setdefault(key, []).append(finding)

    def take(self, key: str) -> list[AcknowledgedFinding]:
        with self._lock:
            return self._items.pop(key, [])

