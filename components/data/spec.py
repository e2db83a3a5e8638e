"""What a catalog service declares about its data and its events (platform/services.yaml).

    persona:
      data: {kind: postgres}
    upload:
      data:
        kind: dynamodb
        partitionKey: {name: pk, type: S}
        sortKey: {name: sk, type: S}
        indexes: [{name: by-owner, partitionKey: {name: ownerId, type: S}, projection: KEYS_ONLY}]
        ttlAttribute: expiresAt
        outbox: true
      publishes: [UploadCompleted]
    billing:
      subscribes: [{source: upload, detailTypes: [UploadCompleted], maxReceives: 5}]

Pure pydantic, and the data and events contract of a service: the catalog (`foundation.settings.catalog`,
whose `CatalogService` inherits `DataAndEvents`) validates into these types and the data and events
components take them as they are. `event_graph_problems` checks the subscriptions across the catalog, naming the key
(`services.billing.subscribes[0].detailTypes[1]`). The limits come from the DynamoDB and EventBridge APIs
(botocore models `dynamodb` CreateTable and `events` PutEvents/PutRule); tests/data and tests/events
re-check them against botocore.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

# CreateTable: IndexName 3-255 of [a-zA-Z0-9_.-]; key attribute names 1-255 characters; key attributes
# are S, N or B. https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html
INDEX_NAME = r"^[a-zA-Z0-9_.-]{3,255}$"
KEY_ATTRIBUTE_MAX = 255
# Default quota of global secondary indexes per table (Service Quotas, adjustable); the catalog keeps to it.
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html
MAX_GLOBAL_INDEXES = 20
# PutEvents DetailType: "Free-form string, with a maximum of 128 characters"
# (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsRequestEntry.html). We also
# keep them to one identifier-like word so that they read the same in event patterns, IAM conditions
# (events:detail-type) and pipe filters.
DETAIL_TYPE = r"^[A-Za-z][A-Za-z0-9._-]{0,127}$"
# SQS maxReceiveCount is 1-1000 (SetQueueAttributes RedrivePolicy).
MAX_RECEIVES_DEFAULT = 5
# Attributes the outbox item carries besides the table's keys (docs/events.md "Outbox item").
OUTBOX_ATTRIBUTES = ("kind", "eventId", "detailType", "payload")


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class KeyAttribute(_Model):
    name: str = Field(min_length=1, max_length=KEY_ATTRIBUTE_MAX)
    type: Literal["S", "N", "B"] = "S"


class TableIndex(_Model):
    """A global secondary index (on-demand tables need no capacity settings for it)."""

    name: str = Field(pattern=INDEX_NAME)
    partition_key: KeyAttribute
    sort_key: KeyAttribute | None = None
    projection: Literal["ALL", "KEYS_ONLY", "INCLUDE"] = "ALL"
    # INCLUDE only: at most 100 projected non-key attributes across all indexes of a table (CreateTable).
    non_key_attributes: tuple[Annotated[str, Field(min_length=1, max_length=255)], ...] = ()

    @model_validator(mode="after")
    def _include_lists_attributes(self) -> TableIndex:
        if (self.projection == "INCLUDE") != bool(self.non_key_attributes):
            raise ValueError("nonKeyAttributes are given exactly when projection is INCLUDE")
        return self


class DynamoDbData(_Model):
    kind: Literal["dynamodb"]
    partition_key: KeyAttribute
    sort_key: KeyAttribute | None = None
    indexes: tuple[TableIndex, ...] = Field(default=(), max_length=MAX_GLOBAL_INDEXES)
    ttl_attribute: str | None = Field(default=None, min_length=1, max_length=KEY_ATTRIBUTE_MAX)
    # The table's stream feeds an EventBridge Pipe that publishes outbox items (needs `publishes`).
    outbox: bool = False

    @model_validator(mode="after")
    def _consistent_keys(self) -> DynamoDbData:
        types: dict[str, str] = {}
        keys = [("partitionKey", self.partition_key), ("sortKey", self.sort_key)]
        for index in self.indexes:
            keys += [(f"indexes.{index.name}.partitionKey", index.partition_key),
                     (f"indexes.{index.name}.sortKey", index.sort_key)]
        for where, key in keys:
            if key is None:
                continue
            seen = types.setdefault(key.name, key.type)
            if seen != key.type:
                # One AttributeDefinition per attribute name: a name has one type across table and indexes.
                raise ValueError(f"{where} declares {key.name!r} as {key.type}, elsewhere it is {seen}")
        names = [index.name for index in self.indexes]
        if len(set(names)) != len(names):
            raise ValueError(f"index names must be unique, got {names}")
        projected = sum(len(index.non_key_attributes) for index in self.indexes)
        if projected > 100:
            raise ValueError(f"{projected} projected nonKeyAttributes; DynamoDB allows at most 100 per table")
        if self.ttl_attribute is not None and self.ttl_attribute in types:
            raise ValueError(f"ttlAttribute {self.ttl_attribute!r} is a key attribute; TTL needs a Number "
                             "attribute of epoch seconds that is not a key")
        if self.outbox and self.partition_key.type != "S":
            raise ValueError("outbox needs a String partitionKey: outbox items are keyed 'outbox#<eventId>'")
        return self

    def attribute_types(self) -> dict[str, str]:
        """Every key attribute of the table and its indexes with its type (CreateTable AttributeDefinitions)."""
        types: dict[str, str] = {self.partition_key.name: self.partition_key.type}
        for key in (self.sort_key, *(i.partition_key for i in self.indexes), *(i.sort_key for i in self.indexes)):
            if key is not None:
                types.setdefault(key.name, key.type)
        return types


class PostgresData(_Model):
    kind: Literal["postgres"]
    database_name: str = Field(default="app", pattern=r"^[a-z][a-z0-9_]{0,62}$")
    max_capacity: float = Field(default=4.0, ge=1.0, le=256.0, description="ACUs per instance (Serverless v2)")

    @model_validator(mode="after")
    def _half_steps(self) -> PostgresData:
        if round(self.max_capacity * 2) != self.max_capacity * 2:
            raise ValueError("maxCapacity is set in steps of 0.5 ACU (ServerlessV2ScalingConfiguration)")
        return self


ServiceDataSpec = Annotated[DynamoDbData | PostgresData, Field(discriminator="kind")]


class Subscription(_Model):
    source: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")]
    detail_types: tuple[Annotated[str, Field(pattern=DETAIL_TYPE)], ...] = Field(min_length=1)
    max_receives: int = Field(default=MAX_RECEIVES_DEFAULT, ge=1, le=1000)
    allow_self: bool = False


class DataAndEvents(_Model):
    """The `data`, `publishes` and `subscribes` keys of one catalog service."""

    data: ServiceDataSpec | None = None
    publishes: tuple[Annotated[str, Field(pattern=DETAIL_TYPE)], ...] = ()
    subscribes: tuple[Subscription, ...] = ()

    @model_validator(mode="after")
    def _outbox_needs_events(self) -> DataAndEvents:
        if len(set(self.publishes)) != len(self.publishes):
            raise ValueError(f"publishes lists a detail type twice: {list(self.publishes)}")
        if isinstance(self.data, DynamoDbData) and self.data.outbox and not self.publishes:
            raise ValueError("data.outbox is true but publishes is empty: the outbox pipe would publish nothing")
        sources = [s.source for s in self.subscribes]
        if len(set(sources)) != len(sources):
            raise ValueError(f"subscribes names a source twice ({sources}); list all its detailTypes in one entry")
        return self

    @property
    def has_outbox(self) -> bool:
        return isinstance(self.data, DynamoDbData) and self.data.outbox


def event_graph_problems(services: Mapping[str, DataAndEvents], prefix: str = "services") -> list[str]:
    """Subscriptions that cannot receive anything, one line per key: the source is not a service, the
    detail type is not published by it, or a service listens to itself without `allowSelf: true`."""
    problems = []
    for name, service in services.items():
        for i, subscription in enumerate(service.subscribes):
            key = f"{prefix}.{name}.subscribes[{i}]"
            publisher = services.get(subscription.source)
            if publisher is None:
                problems.append(f"{key}.source = {subscription.source!r} is not a catalog service "
                                f"(known: {sorted(services)})")
                continue
            if subscription.source == name and not subscription.allow_self:
                problems.append(f"{key}.source = {name!r} is the service itself; set allowSelf: true to consume "
                                "its own events")
            for j, detail_type in enumerate(subscription.detail_types):
                if detail_type not in publisher.publishes:
                    problems.append(f"{key}.detailTypes[{j}] = {detail_type!r} is not published by "
                                    f"{subscription.source!r} (it publishes {list(publisher.publishes)})")
    return problems


def subscribers_of(services: Mapping[str, DataAndEvents], publisher: str) -> dict[str, tuple[str, ...]]:
    """Who consumes which of `publisher`'s detail types."""
    return {name: s.detail_types for name, service in services.items() for s in service.subscribes
            if s.source == publisher}


_SOURCE_PART = re.compile(r"^[a-z][a-z0-9-]*$")


def event_source(service: str) -> str:
    """The EventBridge `source` a service publishes under; never `aws.`-prefixed (reserved for AWS)."""
    if not _SOURCE_PART.match(service):
        raise ValueError(f"{service!r} is not a service name")
    return f"microservices.{service}"
