"""Pure documents of the event plumbing: names, event patterns, redrive policies, queue policies, the
outbox pipe's filter and target parameters. Plain values in, JSON-ready dicts out; the components in
this package wrap them, tests check them against botocore's models (docs/events.md explains the design).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from components.data.spec import event_source

# SQS queue names: 1-80 of [A-Za-z0-9_-] (CreateQueue). Rule names: 1-64 of [.-_A-Za-z0-9] (PutRule).
# Archive names: 1-48 (CreateArchive). Pipe names: 1-64 of [.-_A-Za-z0-9] (CreatePipe).
QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
RULE_NAME = re.compile(r"^[.\-_A-Za-z0-9]{1,64}$")
ARCHIVE_NAME = re.compile(r"^[.\-_A-Za-z0-9]{1,48}$")
PIPE_NAME = re.compile(r"^[.\-_A-Za-z0-9]{1,64}$")
# Target RetryPolicy: MaximumRetryAttempts 0-185, MaximumEventAgeInSeconds 60-86400 (botocore `events`).
RETRY_ATTEMPTS_RANGE = (0, 185)
EVENT_AGE_RANGE = (60, 86400)
# PutRule EventPattern: 2048 characters by default, adjustable to 4096 (EventBridge quotas, "Event
# pattern size"); the default is what an account has until it asks.
EVENT_PATTERN_MAX = 2048
# CreatePipe FilterCriteria Filter.Pattern: at most 4096 characters (EventBridge Pipes API reference).
PIPE_FILTER_PATTERN_MAX = 4096
EVENTS_PRINCIPAL = "events.amazonaws.com"


def _checked(name: str, pattern: re.Pattern[str], what: str) -> str:
    if not pattern.fullmatch(name):
        raise ValueError(f"{what} {name!r} does not match {pattern.pattern}")
    return name


def bus_name(environment: str) -> str:
    """The same name in both regions: an EventBridge global endpoint pairs two buses of one name."""
    return f"{environment}-events"


def archive_name(environment: str) -> str:
    return _checked(f"{environment}-events-archive", ARCHIVE_NAME, "archive name")


def subscription_name(environment: str, subscriber: str, source: str) -> str:
    """Queue and rule name of `subscriber`'s subscription to `source`'s events."""
    name = f"{environment}-{subscriber}-from-{source}"
    _checked(name, RULE_NAME, "rule name")
    return _checked(name, QUEUE_NAME, "queue name")


def dead_letter_queue_name(queue_name: str) -> str:
    return _checked(f"{queue_name}-dlq", QUEUE_NAME, "dead-letter queue name")


def outbox_pipe_name(environment: str, service: str) -> str:
    return _checked(f"{environment}-{service}-outbox", PIPE_NAME, "pipe name")


def event_pattern(source_service: str, detail_types: Sequence[str]) -> dict[str, Any]:
    """Match the publishing service's source and exactly the subscribed detail types (exact-match arrays)."""
    if not detail_types:
        raise ValueError("a subscription needs at least one detail type")
    pattern = {"source": [event_source(source_service)], "detail-type": sorted(set(detail_types))}
    if len(json.dumps(pattern)) > EVENT_PATTERN_MAX:
        raise ValueError(f"the event pattern for {source_service} exceeds {EVENT_PATTERN_MAX} characters, "
                         "EventBridge's default quota (PutRule)")
    return pattern


def redrive_policy(dead_letter_queue_arn: str, max_receives: int) -> dict[str, Any]:
    """SetQueueAttributes RedrivePolicy: after `max_receives` receives a message moves to the DLQ."""
    if not 1 <= max_receives <= 1000:
        raise ValueError(f"maxReceiveCount must be 1-1000, got {max_receives}")
    return {"deadLetterTargetArn": dead_letter_queue_arn, "maxReceiveCount": max_receives}


def redrive_allow_policy(source_queue_arn: str) -> dict[str, Any]:
    """Only the subscription's own queue may use its DLQ (byQueue, at most 10 sources)."""
    return {"redrivePermission": "byQueue", "sourceQueueArns": [source_queue_arn]}


def queue_policy(queue_arn: str, rule_arn: str) -> dict[str, Any]:
    """The queue (or its DLQ) accepts messages only from EventBridge on behalf of its one rule
    (EventBridge user guide, eb-rule-dlq.html and resource-based-policies-eventbridge.html)."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "OnlyItsRuleSends", "Effect": "Allow", "Principal": {"Service": EVENTS_PRINCIPAL},
        "Action": "sqs:SendMessage", "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}}}]}


@dataclass(frozen=True)
class RetryPolicy:
    maximum_retry_attempts: int = 185
    maximum_event_age_seconds: int = 86400

    def __post_init__(self) -> None:
        low, high = RETRY_ATTEMPTS_RANGE
        if not low <= self.maximum_retry_attempts <= high:
            raise ValueError(f"maximum_retry_attempts must be {low}-{high}")
        low, high = EVENT_AGE_RANGE
        if not low <= self.maximum_event_age_seconds <= high:
            raise ValueError(f"maximum_event_age_seconds must be {low}-{high}")


def platform_key_statement_for_events() -> dict[str, Any]:
    """What the platform key policy must add so that EventBridge can put messages on queues encrypted with
    it (EventBridge must generate data keys for SSE-KMS queues: EventBridge user guide, eb-troubleshooting
    "SQS queue encrypted"). In a key policy, Resource "*" means the key itself."""
    return {"Sid": "EventBridgeEncryptsQueueMessages", "Effect": "Allow",
            "Principal": {"Service": EVENTS_PRINCIPAL}, "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": "*"}


# --- the transactional outbox (docs/events.md "Outbox item") ------------------------------------------

OUTBOX_KIND = "outbox"


def outbox_filter(detail_types: Sequence[str]) -> dict[str, Any]:
    """Pipe filter: only new outbox items of a detail type the service declares it publishes. Updates and
    deletes (including TTL expiry of old outbox items) never publish."""
    return {"eventName": ["INSERT"], "dynamodb": {"NewImage": {
        "kind": {"S": [OUTBOX_KIND]}, "detailType": {"S": sorted(set(detail_types))}}}}


def outbox_target_parameters(service: str) -> dict[str, Any]:
    """CreatePipe TargetParameters for the bus: the item's detailType becomes the event's detail-type
    (a dynamic path parameter), the source is the service's, the detail carries id and payload."""
    return {
        "EventBridgeEventBusParameters": {"Source": event_source(service),
                                          "DetailType": "$.dynamodb.NewImage.detailType.S"},
        "InputTemplate": ('{"eventId": "<$.dynamodb.NewImage.eventId.S>", '
                          '"occurredAt": "<$.dynamodb.NewImage.occurredAt.S>", '
                          '"payload": "<$.dynamodb.NewImage.payload.S>"}'),
    }


def outbox_source_parameters(detail_types: Sequence[str], dead_letter_queue_arn: str) -> dict[str, Any]:
    """CreatePipe SourceParameters for the table's stream. Retries are bounded and exhausted batches go to
    the pipe's DLQ, so a poison record neither blocks the shard for 24 h nor disappears silently."""
    return {
        "FilterCriteria": {"Filters": [{"Pattern": json.dumps(outbox_filter(detail_types))}]},
        "DynamoDBStreamParameters": {"StartingPosition": "LATEST", "BatchSize": 10, "MaximumRetryAttempts": 10,
                                     "MaximumRecordAgeInSeconds": 86400,
                                     "DeadLetterConfig": {"Arn": dead_letter_queue_arn}},
    }


_PULUMI_NAMES = {"DynamoDBStreamParameters": "dynamodb_stream_parameters",
                 "EventBridgeEventBusParameters": "eventbridge_event_bus_parameters"}


def pulumi_keys(value: Any) -> Any:
    """An API-shaped (PascalCase) document as pulumi-aws input keys (snake_case), values untouched."""
    if isinstance(value, dict):
        return {_PULUMI_NAMES.get(k) or re.sub(r"(?<!^)(?=[A-Z])", "_", k).lower(): pulumi_keys(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [pulumi_keys(v) for v in value]
    return value
