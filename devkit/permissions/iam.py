"""A small IAM policy evaluator: identity policies and a permissions boundary together, explicit denies,
Action/NotAction, Resource/NotResource with wildcards, and the condition operators the roles use.

It follows the evaluation logic of the IAM User Guide (reference_policies_evaluation-logic.html) for a
principal and a resource in the same account: an explicit deny anywhere wins; otherwise the request is
allowed when an identity policy allows it and the boundary (if any) allows it too. A condition operator
it does not know stops the evaluation with an error instead of guessing.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Document = Mapping[str, Any]


class UnsupportedCondition(ValueError):
    """A condition operator this evaluator does not implement."""


@dataclass(frozen=True)
class Request:
    action: str  # service:Action
    resource: str  # an ARN, or "*" for actions without resource-level permissions
    # Condition keys of the request context (lower-cased keys); multi-valued keys hold several values.
    context: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


Outcome = Literal["allowed", "explicit-deny", "implicit-deny"]


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: str

    @property
    def allowed(self) -> bool:
        return self.outcome == "allowed"


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


@functools.cache
def _compiled(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, 0 if case_sensitive else re.IGNORECASE)


def _glob(pattern: str, value: str, *, case_sensitive: bool) -> bool:
    """IAM wildcards: `*` any run of characters, `?` one character; nothing else is special."""
    return _compiled(pattern, case_sensitive).fullmatch(value) is not None


@functools.cache
def _action_set(patterns: tuple[str, ...]) -> tuple[frozenset[str], tuple[re.Pattern[str], ...]]:
    exact = frozenset(p.lower() for p in patterns if "*" not in p and "?" not in p)
    return exact, tuple(_compiled(p, False) for p in patterns if "*" in p or "?" in p)


def _action_matches(patterns: Iterable[str], action: str) -> bool:
    exact, wildcards = _action_set(tuple(patterns))
    return action.lower() in exact or any(w.fullmatch(action) for w in wildcards)


def _resource_matches(patterns: Iterable[str], resource: str) -> bool:
    # A request on "*" (no resource-level permission) is matched only by a statement on "*".
    if resource == "*":
        return any(p == "*" for p in patterns)
    return any(_glob(p, resource, case_sensitive=True) for p in patterns)


def _string_match(op: str, policy_value: str, value: str) -> bool:
    if op in ("StringEquals", "StringNotEquals", "ArnEquals", "ArnNotEquals"):
        return policy_value == value
    if op in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
        return policy_value.lower() == value.lower()
    if op in ("StringLike", "StringNotLike", "ArnLike", "ArnNotLike"):
        return _glob(policy_value, value, case_sensitive=True)
    if op == "Bool":
        return policy_value.lower() == value.lower()
    raise UnsupportedCondition(op)


_POSITIVE = {"StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike", "Bool"}
_NEGATED = {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike"}


def condition_holds(operator: str, key: str, policy_values: Sequence[Any],
                    context: Mapping[str, tuple[str, ...]]) -> bool:
    """One operator/key pair of a Condition block (values within a key are ORed)."""
    values = context.get(key.lower())
    wanted = [str(v).lower() if isinstance(v, bool) else str(v) for v in policy_values]
    if operator == "Null":
        absent = values is None
        return all((w.lower() == "true") == absent for w in wanted)
    qualifier, _, op = operator.rpartition(":")
    if_exists = op.endswith("IfExists")
    op = op.removesuffix("IfExists")
    if op not in _POSITIVE | _NEGATED or qualifier not in ("", "ForAnyValue", "ForAllValues"):
        raise UnsupportedCondition(operator)
    negated = op in _NEGATED
    if values is None:
        if if_exists or qualifier == "ForAllValues":
            return True
        return negated  # a negated operator matches an absent key (IAM User Guide, condition operators)
    def one(value: str) -> bool:
        hit = any(_string_match(op, w, value) for w in wanted)
        return not hit if negated else hit
    if qualifier == "ForAllValues":
        return all(one(v) for v in values)
    if negated and qualifier == "":
        return all(one(v) for v in values)
    return any(one(v) for v in values)


def conditions_hold(condition: Mapping[str, Mapping[str, Any]] | None,
                    context: Mapping[str, tuple[str, ...]]) -> bool:
    """Every operator and every key in a Condition block must hold (AND)."""
    for operator, pairs in (condition or {}).items():
        for key, policy_values in pairs.items():
            if not condition_holds(operator, key, _as_list(policy_values), context):
                return False
    return True


def statement_applies(statement: Mapping[str, Any], request: Request) -> bool:
    if "Action" in statement:
        if not _action_matches(_as_list(statement["Action"]), request.action):
            return False
    elif _action_matches(_as_list(statement.get("NotAction", [])), request.action):
        return False
    if "Resource" in statement:
        if not _resource_matches(_as_list(statement["Resource"]), request.resource):
            return False
    elif "NotResource" in statement and _resource_matches(_as_list(statement["NotResource"]), request.resource):
        return False
    return conditions_hold(statement.get("Condition"), request.context)


def _statements(document: Document) -> list[Mapping[str, Any]]:
    return _as_list(document.get("Statement", []))


def _first(documents: Iterable[Document], request: Request, effect: str) -> str | None:
    for document in documents:
        for index, statement in enumerate(_statements(document)):
            if statement.get("Effect") == effect and statement_applies(statement, request):
                return str(statement.get("Sid") or f"statement {index}")
    return None


def decide(identity: Sequence[Document], boundary: Document | None, request: Request) -> Decision:
    """Identity policies and permissions boundary of one role, same-account request."""
    documents = [*identity, *([boundary] if boundary is not None else [])]
    denied_by = _first(documents, request, "Deny")
    if denied_by:
        return Decision("explicit-deny", f"denied by {denied_by}")
    allowed_by = _first(identity, request, "Allow")
    if allowed_by is None:
        return Decision("implicit-deny", "no identity policy allows it")
    if boundary is not None and _first([boundary], request, "Allow") is None:
        return Decision("implicit-deny", "the permissions boundary does not allow it")
    return Decision("allowed", f"allowed by {allowed_by}")


def principal_matches(statement: Mapping[str, Any], principal_arn: str, account_id: str) -> bool:
    """A resource policy's Principal: "*", the account (root or bare id), or the role's ARN."""
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    for value in _as_list(principal.get("AWS", [])):
        if value in ("*", account_id, f"arn:aws:iam::{account_id}:root", principal_arn):
            return True
    return False


def key_policy_allows(key_policy: Document, principal_arn: str, account_id: str, request: Request) -> Decision:
    """A KMS key policy must allow the call itself (a key policy naming the account delegates to IAM)."""
    for index, statement in enumerate(_statements(key_policy)):
        if statement.get("Effect") == "Deny" and principal_matches(statement, principal_arn, account_id) \
                and statement_applies({**statement, "Resource": "*"}, request):
            return Decision("explicit-deny", f"key policy denies it ({statement.get('Sid') or index})")
    for statement in _statements(key_policy):
        # In a key policy, "Resource": "*" means this key.
        if statement.get("Effect") == "Allow" and principal_matches(statement, principal_arn, account_id) \
                and statement_applies({**statement, "Resource": "*"}, request):
            return Decision("allowed", "key policy allows it")
    return Decision("implicit-deny", "the key policy does not allow it")


def matches_wildcard(pattern: str, value: str) -> bool:
    """An ARN pattern with IAM wildcards."""
    return _glob(pattern, value, case_sensitive=True)
