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
# All are Strings; the table's TTL attribute, if any, is the item's only Number.
OUTBOX_ITEM_ATTRIBUTES = ("kind", "eventId", "detailType", "occurredAt", "payload")
# CreateDBCluster DatabaseName "can't be a word reserved by the database engine": PostgreSQL's reserved key
# words (PostgreSQL docs, Appendix C "SQL Key Words", both "reserved" kinds), plus the databases every
# Aurora PostgreSQL cluster already has (postgres, template0/1, rdsadmin).
POSTGRES_RESERVED_NAMES = frozenset(["all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization", "binary", "both", "case", "cast", "check", "collate", "collation", "column", "concurrently", "constraint", "create", "cross", "current_catalog", "current_date", "current_role", "current_schema", "current_time", "current_timestamp", "current_user", "default", "deferrable", "desc", "distinct", "do", "else", "end", "except", "false", "fetch", "for", "foreign", "freeze", "from", "full", "grant", "group", "having", "ilike", "in", "initially", "inner", "intersect", "into", "is", "isnull", "join", "lateral", "leading", "left", "like", "limit", "localtime", "localtimestamp", "natural", "not", "notnull", "null", "offset", "on", "only", "or", "order", "outer", "overlaps", "placing", "primary", "references", "returning", "right", "select", "session_user", "similar", "some", "symmetric", "system_user", "table", "tablesample", "then", "to", "trailing", "true", "union", "unique", "user", "using", "variadic", "verbose", "when", "where", "window", "with", "postgres", "template0", "template1", "rdsadmin"])


class _Model(BaseModel):
    # Numbers are finite; `strict` on a numeric field refuses true/false for it.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True,
                              allow_inf_nan=False)


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
        # A key schema names two different attributes (CreateTable: "Duplicate value in attribute names").
        schemas = [("partitionKey/sortKey", self.partition_key, self.sort_key)]
        schemas += [(f"indexes.{i.name}.partitionKey/sortKey", i.partition_key, i.sort_key) for i in self.indexes]
        for where, partition, sort in schemas:
            if sort is not None and sort.name == partition.name:
                raise ValueError(f"{where} both name {partition.name!r}; the sort key must be another attribute")
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
        if self.outbox:
            self._outbox_item_fits(types)
        return self

    def _outbox_item_fits(self, types: Mapping[str, str]) -> None:
        """The outbox item (docs/events.md "Outbox item") must be writable to this table: String keys, its
        own attributes keep their String type in any index key, and TTL is not one of them."""
        if self.partition_key.type != "S":
            raise ValueError("outbox needs a String partitionKey: outbox items are keyed 'outbox#<eventId>'")
        if self.sort_key is not None and self.sort_key.type != "S":
            raise ValueError(f"outbox needs a String sortKey: outbox items carry sortKey {self.sort_key.name!r} "
                             "= 'outbox'")
        for name in OUTBOX_ITEM_ATTRIBUTES:
            if types.get(name, "S") != "S":
                raise ValueError(f"an index key declares {name!r} as {types[name]}, but the outbox item writes "
                                 f"{name!r} as a String")
        if self.ttl_attribute in OUTBOX_ITEM_ATTRIBUTES:
            raise ValueError(f"ttlAttribute {self.ttl_attribute!r} is an attribute of the outbox item (a String), "
                             "not the Number of epoch seconds TTL reads")

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
    max_capacity: float = Field(default=4.0, ge=1.0, le=256.0, strict=True,
                                description="ACUs per instance (Serverless v2)")

    @model_validator(mode="after")
    def _half_steps(self) -> PostgresData:
        if self.database_name in POSTGRES_RESERVED_NAMES:
            raise ValueError(f"databaseName {self.database_name!r} is reserved by PostgreSQL (or an existing "
                             "database of every Aurora cluster); choose another name")
        if round(self.max_capacity * 2) != self.max_capacity * 2:
            raise ValueError("maxCapacity is set in steps of 0.5 ACU (ServerlessV2ScalingConfiguration)")
        return self


ServiceDataSpec = Annotated[DynamoDbData | PostgresData, Field(discriminator="kind")]


class Subscription(_Model):
    source: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")]
    detail_types: tuple[Annotated[str, Field(pattern=DETAIL_TYPE)], ...] = Field(min_length=1)
    max_receives: int = Field(default=MAX_RECEIVES_DEFAULT, ge=1, le=1000, strict=True)
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
    if not _SOURCE_PART.fullmatch(service):
        raise ValueError(f"{service!r} is not a service name")
    return f"microservices.{service}"
