"""Server-side `Idempotency-Key`: the first outcome of a keyed request is stored for a while and replayed.

* A request with a key claims it (a conditional write), runs, and stores its status and body under the key with
  an expiry (`IDEMPOTENCY_TTL_SECONDS`, default 24 h). A retry with the same key and the same request gets the
  stored answer (header `Idempotency-Replayed: true`) without running again.
* The same key with a different request (method, path or body hash) is refused with 422.
* While the first request runs, a concurrent retry gets 409 with `Retry-After: 1`.
* A 5xx outcome is not stored: the claim is released so that the caller's retry runs again.

Stores: `MemoryStore` for tests and local runs; `DynamoDbStore` in the service's own table (the catalog's `data`
with `kind: dynamodb`; `DATA_TABLE_NAME` is injected), next to the service's items and outbox items, keyed
`idempotency#<key>` and expired by the table's TTL attribute.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotency-Replayed"
DEFAULT_TTL_SECONDS = 86400
MAX_KEY_LENGTH = 255
KEY_PREFIX = "idempotency#"


@dataclass(frozen=True)
class Outcome:
    """A stored request: its hash, and once it finished, its status and body (None while in progress)."""

    request_hash: str
    status: int | None = None
    body: bytes = b""
    content_type: str = "application/json"


class Store(Protocol):
    def claim(self, key: str, request_hash: str, ttl_seconds: int) -> Outcome | None:
        """Claim the key for this request; None when claimed now, else what the key already holds."""

    def complete(self, key: str, outcome: Outcome, ttl_seconds: int) -> None: ...

    def release(self, key: str) -> None: ...


def request_hash(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


class MemoryStore:
    """In one process only: for tests and local runs, never for more than one task."""

    def __init__(self, clock: Callable[[], float] = time.time):
        self._clock = clock
        self._items: dict[str, tuple[Outcome, float]] = {}
        self._lock = threading.Lock()

    def claim(self, key: str, request_hash: str, ttl_seconds: int) -> Outcome | None:
        with self._lock:
            now = self._clock()
            held = self._items.get(key)
            if held is not None and held[1] > now:
                return held[0]
            self._items[key] = (Outcome(request_hash), now + ttl_seconds)
            return None

    def complete(self, key: str, outcome: Outcome, ttl_seconds: int) -> None:
        with self._lock:
            self._items[key] = (outcome, self._clock() + ttl_seconds)

    def release(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)


class DynamoDbClient(Protocol):
    """The part of a boto3 DynamoDB client the store uses."""

    def put_item(self, **kwargs: Any) -> Any: ...

    def get_item(self, **kwargs: Any) -> Any: ...

    def delete_item(self, **kwargs: Any) -> Any: ...


class DynamoDbStore:
    """Idempotency items in the service's own table: partition key `idempotency#<key>` (sort key, if the table
    has one, `idempotency`), `kind` = `idempotency`, the TTL attribute in epoch seconds. DynamoDB's TTL deletes
    expired items only eventually, so reads also compare the expiry themselves."""

    def __init__(self, client: DynamoDbClient, table: str, *, partition_key: str, ttl_attribute: str,
                 sort_key: str | None = None, clock: Callable[[], float] = time.time):
        self._client, self._table, self._clock = client, table, clock
        self._partition_key, self._sort_key, self._ttl = partition_key, sort_key, ttl_attribute

    def _key(self, key: str) -> dict[str, dict[str, Any]]:
        item: dict[str, dict[str, Any]] = {self._partition_key: {"S": KEY_PREFIX + key}}
        if self._sort_key:
            item[self._sort_key] = {"S": "idempotency"}
        return item

    def _item(self, key: str, outcome: Outcome, ttl_seconds: int) -> dict[str, dict[str, Any]]:
        item: dict[str, dict[str, Any]] = {
            **self._key(key), "kind": {"S": "idempotency"}, "requestHash": {"S": outcome.request_hash},
            self._ttl: {"N": str(int(self._clock()) + ttl_seconds)}}
        if outcome.status is not None:
            item |= {"status": {"N": str(outcome.status)}, "body": {"B": outcome.body},
                     "contentType": {"S": outcome.content_type}}
        return item

    def claim(self, key: str, request_hash: str, ttl_seconds: int) -> Outcome | None:
        now = str(int(self._clock()))
        try:
            self._client.put_item(
                TableName=self._table, Item=self._item(key, Outcome(request_hash), ttl_seconds),
                # New, or a leftover whose expiry passed but which TTL has not deleted yet.
                ConditionExpression="attribute_not_exists(#pk) OR #ttl < :now",
                ExpressionAttributeNames={"#pk": self._partition_key, "#ttl": self._ttl},
                ExpressionAttributeValues={":now": {"N": now}})
            return None
        except Exception as error:  # botocore's ConditionalCheckFailedException; boto3 is the service's dependency
            if type(error).__name__ != "ConditionalCheckFailedException":
                raise
        held = self._client.get_item(TableName=self._table, Key=self._key(key), ConsistentRead=True).get("Item")
        if held is None:  # expired and deleted between the two calls: claim again
            return self.claim(key, request_hash, ttl_seconds)
        status = held.get("status")
        return Outcome(held["requestHash"]["S"], int(status["N"]) if status else None,
                       bytes(held.get("body", {}).get("B", b"")), held.get("contentType", {}).get("S", ""))

    def complete(self, key: str, outcome: Outcome, ttl_seconds: int) -> None:
        self._client.put_item(TableName=self._table, Item=self._item(key, outcome, ttl_seconds))

    def release(self, key: str) -> None:
        self._client.delete_item(TableName=self._table, Key=self._key(key))


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: Mapping[str, str]


def handle(store: Store, key: str, method: str, path: str, body: bytes, run: Callable[[], Answer],
           ttl_seconds: int = DEFAULT_TTL_SECONDS) -> Answer:
    """Run `run` at most once per key (within the TTL) and answer every request with that key consistently."""
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        return _error(400, f"{HEADER} must be 1-{MAX_KEY_LENGTH} printable characters")
    fingerprint = request_hash(method, path, body)
    held = store.claim(key, fingerprint, ttl_seconds)
    if held is not None:
        if held.request_hash != fingerprint:
            return _error(422, f"{HEADER} was already used for a different request; use a new key per request")
        if held.status is None:
            return Answer(409, b'{"error": "a request with this Idempotency-Key is in progress"}',
                          {"Content-Type": "application/json", "Retry-After": "1"})
        return Answer(held.status, held.body, {"Content-Type": held.content_type, REPLAYED_HEADER: "true"})
    try:
        answer = run()
    except BaseException:
        store.release(key)
        raise
    if answer.status >= 500:
        store.release(key)
    else:
        store.complete(key, Outcome(fingerprint, answer.status, answer.body,
                                    answer.headers.get("Content-Type", "application/json")), ttl_seconds)
    return answer


def _error(status: int, message: str) -> Answer:
    return Answer(status, json.dumps({"error": message}).encode(), {"Content-Type": "application/json"})
