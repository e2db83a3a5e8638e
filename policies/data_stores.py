"""Queues and tables keep their data safe.

* ``sqs-queue-dead-letter`` (stack): every SQS queue has a redrive policy that names a ``deadLetterTargetArn``
  (its own ``redrivePolicy``, or an ``aws:sqs/redrivePolicy:RedrivePolicy`` whose ``queueUrl`` is the queue),
  unless it is itself a dead-letter queue. A queue is a dead-letter queue only where a dead-letter property
  names it (DEAD_LETTER_PATHS: a redrive policy's ``deadLetterTargetArn``, an event target's, function's or
  pipe's ``deadLetterConfig``), by its known ARN or through that property's dependency; other references
  (queue policies, subscriptions, alarms) do not make it one.
* ``sqs-queue-encryption``: SQS queues are encrypted with a KMS key (``kmsMasterKeyId``) that is not an AWS
  managed key (``alias/aws/sqs``).
* ``dynamodb-table-pitr`` / ``dynamodb-table-kms``: DynamoDB tables, their replicas and
  ``aws:dynamodb/tableReplica`` resources have point-in-time recovery and server-side encryption with a
  customer managed key (not ``alias/aws/dynamodb``).

``data-keys-customer-managed`` (data_keys.py) resolves each key reference against the stack's own keys, so a key
ARN of an AWS managed key is caught too. Databases are judged in databases.py.

Unknown values: an unknown key ARN is a key the program creates and counts as set; an unknown flag is
reported as unverifiable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .framework import Finding, PolicySpec, ResourceView, require_true
from .values import DocumentError, as_list, get_path, is_known_text, is_set, is_unknown, parse_json_document

QUEUE = "aws:sqs/queue:Queue"
REDRIVE_POLICY = "aws:sqs/redrivePolicy:RedrivePolicy"
TABLE = "aws:dynamodb/table:Table"
TABLE_REPLICA = "aws:dynamodb/tableReplica:TableReplica"
# Where a queue is named as a dead-letter queue: (type or None for any type, property, path to the ARN inside).
# Only these make a queue a DLQ; any other reference (a queue policy, a subscription, an alarm) does not.
DEAD_LETTER_PATHS: tuple[tuple[str | None, str, tuple[str, ...]], ...] = (
    (QUEUE, "redrivePolicy", ("deadLetterTargetArn",)),
    (REDRIVE_POLICY, "redrivePolicy", ("deadLetterTargetArn",)),
    ("aws:sns/topicSubscription:TopicSubscription", "redrivePolicy", ("deadLetterTargetArn",)),
    ("aws:cloudwatch/eventTarget:EventTarget", "deadLetterConfig", ("arn",)),
    ("aws:lambda/function:Function", "deadLetterConfig", ("targetArn",)),
    ("aws:pipes/pipe:Pipe", "sourceParameters", ("*", "deadLetterConfig", "arn")),
)
_DEAD_LETTER_PROPS = {(t, p) for t, p, _ in DEAD_LETTER_PATHS}


def is_aws_managed_key(key: Any) -> bool:
    """Whether a key reference names an AWS managed key by its alias (``alias/aws/sqs``, ``...:alias/aws/dynamodb``).
    Such keys cannot be audited, restricted or disabled by the account. A key ARN of an AWS managed key is
    caught by ``data-keys-customer-managed``, which resolves references against the stack's keys."""
    if not isinstance(key, str) or is_unknown(key):
        return False
    text = key.strip().lower()
    return text.startswith("alias/aws/") or ":alias/aws/" in text or text in ("aws/sqs", "aws/dynamodb")


def _arns_at(value: Any, path: tuple[str, ...]) -> list[Any]:
    """The values at ``path`` inside a property (JSON text opened; ``*`` walks every key)."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            value = parse_json_document(value)
        except DocumentError:
            return []
    if not path:
        return [value]
    if is_unknown(value):
        return [value]
    if not isinstance(value, Mapping):
        return []
    head, rest = path[0], path[1:]
    children = list(value.values()) if head == "*" else [value.get(head)]
    return [found for child in children if child is not None for found in _arns_at(child, rest)]


def _redrive_target(value: Any) -> Any:
    """A redrivePolicy's deadLetterTargetArn: the ARN, the unknown sentinel, or None when it names none."""
    if value is None:
        return None
    if is_unknown(value):
        return value
    targets = _arns_at(value, ("deadLetterTargetArn",))
    return next((t for t in targets if is_unknown(t) or (isinstance(t, str) and t.strip())), None)


def check_dead_letter(resources: list[ResourceView], config: Mapping[str, Any]) -> list[Finding]:
    dead_letter_arns: set[str] = set()
    dead_letter_views: set[int] = set()
    redriven_urls: set[str] = set()
    redriven_views: set[int] = set()
    for resource in resources:
        for type_, prop, path in DEAD_LETTER_PATHS:
            if (type_ is not None and resource.type != type_) or prop not in resource.props:
                continue
            dead_letter_arns |= {a for a in _arns_at(resource.props[prop], path) if is_known_text(a)}
            dead_letter_views |= {id(v) for v in resource.property_dependencies.get(prop, []) if v.type == QUEUE}
        if resource.type == REDRIVE_POLICY and _redrive_target(resource.props.get("redrivePolicy")) is not None:
            url = resource.props.get("queueUrl")
            if is_known_text(url):
                redriven_urls.add(str(url))
            redriven_views |= {id(v) for v in resource.property_dependencies.get("queueUrl", [])}
    findings = []
    for queue in (r for r in resources if r.type == QUEUE):
        if id(queue) in dead_letter_views or id(queue) in redriven_views:
            continue
        if any(queue.props.get(key) in dead_letter_arns for key in ("arn",) if is_known_text(queue.props.get(key))):
            continue
        if any(queue.props.get(key) in redriven_urls for key in ("id", "url") if is_known_text(queue.props.get(key))):
            continue
        if _redrive_target(queue.props.get("redrivePolicy")) is not None:
            continue
        findings.append(Finding(
            "has no redrivePolicy naming a deadLetterTargetArn (on the queue or through aws.sqs.RedrivePolicy) and no "
            "redrive policy, subscription, event target, function or pipe names it as a dead-letter queue, so a "
            "message its consumer cannot process is received forever (or lost at retention). Set redrive_policy="
            "json.dumps({'deadLetterTargetArn': <DLQ ARN>, 'maxReceiveCount': 5}).", urn=queue.urn))
    return findings


def _aws_managed(prop: str, key: Any) -> list[Finding]:
    if not is_aws_managed_key(key):
        return []
    return [Finding(f"{prop} is {key!r}, an AWS managed key: its policy cannot be read, restricted or changed by the "
                    "account, so access to the data cannot be audited or revoked. Use the platform's customer managed "
                    "key.")]


def check_queue_encryption(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    key = resource.props.get("kmsMasterKeyId")
    if is_set(key):
        return _aws_managed("kmsMasterKeyId", key)
    return [Finding("kmsMasterKeyId is not set, so messages are not encrypted with a key you control. Set "
                    "kms_master_key_id=<platform key ARN> (its policy must admit the producing services).")]


def check_table_pitr(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    if resource.type == TABLE_REPLICA:
        return require_true("pointInTimeRecovery", resource.props.get("pointInTimeRecovery"),
                            " (it defaults to false per replica). Set point_in_time_recovery=True on the replica.")
    findings = require_true("pointInTimeRecovery.enabled", get_path(resource.props, "pointInTimeRecovery", "enabled"),
                            ", so the table cannot be restored to a point in the last 35 days. Set "
                            "point_in_time_recovery={'enabled': True}.")
    for index, replica in enumerate(as_list(resource.props.get("replicas"))):
        findings += require_true(f"replicas[{index}].pointInTimeRecovery", get_path(replica, "pointInTimeRecovery"),
                                 " (it defaults to false per replica). Set point_in_time_recovery=True on the replica.")
    return findings


def check_table_kms(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    if resource.type == TABLE_REPLICA:
        key = resource.props.get("kmsKeyArn")
        if not is_set(key):
            return [Finding("kmsKeyArn is not set; the replica would use aws/dynamodb. Set it to a customer managed key "
                            "of the replica's region.")]
        return _aws_managed("kmsKeyArn", key)
    sse = resource.props.get("serverSideEncryption")
    findings = require_true("serverSideEncryption.enabled", get_path(sse, "enabled"),
                            ", so the table is encrypted with an AWS owned key you cannot audit. Set "
                            "server_side_encryption={'enabled': True, 'kms_key_arn': <platform key ARN>}.")
    if not findings and not is_set(get_path(sse, "kmsKeyArn")):
        findings.append(Finding("serverSideEncryption.kmsKeyArn is not set, so the AWS managed key aws/dynamodb is "
                                "used. Set kms_key_arn to the platform key."))
    elif not findings:
        findings += _aws_managed("serverSideEncryption.kmsKeyArn", get_path(sse, "kmsKeyArn"))
    for index, replica in enumerate(as_list(resource.props.get("replicas"))):
        if not is_set(get_path(replica, "kmsKeyArn")):
            findings.append(Finding(f"replicas[{index}].kmsKeyArn is not set; the replica would use aws/dynamodb. "
                                    "Set it to a customer managed key of the replica's region."))
        else:
            findings += _aws_managed(f"replicas[{index}].kmsKeyArn", get_path(replica, "kmsKeyArn"))
    return findings


SQS_QUEUE_DEAD_LETTER = PolicySpec(
    name="sqs-queue-dead-letter",
    description="Every SQS queue has a dead-letter queue (a redrivePolicy naming a deadLetterTargetArn, on the queue or "
                "through aws.sqs.RedrivePolicy), unless it is one.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.MEDIUM,
    remediation="Set redrive_policy on the queue pointing at its dead-letter queue.",
    unknowns="A queue reached through a property dependency of a dead-letter property (redrivePolicy, "
             "deadLetterConfig, a pipe's sourceParameters) counts as a dead-letter queue; an unknown redrivePolicy or "
             "deadLetterTargetArn counts as set.",
    check=check_dead_letter, stack=True)

SQS_QUEUE_ENCRYPTION = PolicySpec(
    name="sqs-queue-encryption", description="SQS queues are encrypted with a KMS key that is not AWS managed.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.MEDIUM,
    remediation="Set kms_master_key_id on aws.sqs.Queue.", unknowns="An unknown kmsMasterKeyId counts as set.",
    check=check_queue_encryption, resource_types=frozenset({QUEUE}))

DYNAMODB_TABLE_PITR = PolicySpec(
    name="dynamodb-table-pitr", description="DynamoDB tables and their replicas have point-in-time recovery.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.MEDIUM,
    remediation="Set point_in_time_recovery={'enabled': True} (and point_in_time_recovery=True per replica).",
    unknowns="An unknown flag is reported as unverifiable.", check=check_table_pitr,
    resource_types=frozenset({TABLE, TABLE_REPLICA}))

DYNAMODB_TABLE_KMS = PolicySpec(
    name="dynamodb-table-kms", description="DynamoDB tables and replicas are encrypted with a customer managed key.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.MEDIUM,
    remediation="Set server_side_encryption={'enabled': True, 'kms_key_arn': ...} and kms_key_arn per replica.",
    unknowns="An unknown key ARN counts as set; an unknown enabled flag is reported.", check=check_table_kms,
    resource_types=frozenset({TABLE, TABLE_REPLICA}))
