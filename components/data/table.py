"""ServiceTable: one service's DynamoDB table, and in prod its global-table replica in the standby region.

On-demand (global tables need on-demand or auto-scaled capacity), point-in-time recovery, encryption with
the platform key, deletion protection when asked, TTL when the catalog names an attribute, and a stream when the
service has an outbox (the stream feeds the outbox pipe, components/events/outbox.py).

Replica (prod): `replicas=[...]` on the table (global tables version 2019.11.21), so the primary stack owns
the replica and the standby stack needs no provider in the primary region. A KMS key is regional and the
replica is encrypted with a key of its own region. The standby platform key cannot be used: the standby
stack reads the primary's outputs, so the primary reading the standby's would make the two stacks depend
on each other. So the primary stack also owns one `TableReplicaKey` in the standby region (pulumi-aws 7
resources take `region=`, no second provider); it exports that key's ARN, and the standby's task roles
are scoped to it. The standby reads the replica's name and ARN from the primary's stack outputs
(`dataTables`, see `table_outputs`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import pulumi
import pulumi_aws.dynamodb as dynamodb
import pulumi_aws.kms as kms

from components.data.names import table_name
from components.data.spec import DynamoDbData, TableIndex
from components.regional_platform.platform_iam import KEY_ADMIN_ACTIONS, KEY_USE_ACTIONS


def stream_view_type(spec: DynamoDbData, replicated: bool) -> str | None:
    """NEW_IMAGE feeds the outbox pipe. A replicated table gets NEW_AND_OLD_IMAGES (a superset, so the pipe
    still reads NewImage): AWS requires it for replicas of legacy global tables and its tutorials set it for
    2019.11.21 ones; whether 2019.11.21 requires it is not stated (aws-facts-operations.md 6)."""
    if replicated:
        return "NEW_AND_OLD_IMAGES"
    return "NEW_IMAGE" if spec.outbox else None


def create_table_request(name: str, spec: DynamoDbData, kms_key_arn: str, view_type: str | None) -> dict[str, Any]:
    """The DynamoDB CreateTable request this table amounts to (what tests check against botocore)."""
    keys = [{"AttributeName": spec.partition_key.name, "KeyType": "HASH"}]
    if spec.sort_key:
        keys.append({"AttributeName": spec.sort_key.name, "KeyType": "RANGE"})
    request: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in spec.attribute_types().items()],
        "KeySchema": keys,
        "BillingMode": "PAY_PER_REQUEST",
        "SSESpecification": {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": kms_key_arn},
    }
    if spec.indexes:
        request["GlobalSecondaryIndexes"] = [_index_request(index) for index in spec.indexes]
    if view_type:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view_type}
    return request


def _index_request(index: TableIndex) -> dict[str, Any]:
    keys = [{"AttributeName": index.partition_key.name, "KeyType": "HASH"}]
    if index.sort_key:
        keys.append({"AttributeName": index.sort_key.name, "KeyType": "RANGE"})
    projection: dict[str, Any] = {"ProjectionType": index.projection}
    if index.non_key_attributes:
        projection["NonKeyAttributes"] = list(index.non_key_attributes)
    return {"IndexName": index.name, "KeySchema": keys, "Projection": projection}


def replica_key_policy(account_id: str) -> dict[str, Any]:
    """The replica key is used only by DynamoDB on behalf of this account's roles, whose own IAM policies
    (scoped with kms:ViaService) decide who; the account administers it through IAM, as the platform key."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "AccountAdministersKeyThroughIam", "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
        "Action": KEY_ADMIN_ACTIONS + KEY_USE_ACTIONS, "Resource": "*"}]}


@dataclass(frozen=True)
class TableReplicaKeyArgs:
    """environment: names the alias. region: the standby region the replicas live in."""

    environment: str
    region: str
    account_id: pulumi.Input[str]


class TableReplicaKey(pulumi.ComponentResource):
    """A KMS key in the standby region for every table replica of one environment, owned by the primary."""

    key_arn: pulumi.Output[str]
    """ARN of the key (in the standby region) that encrypts the table replicas."""

    def __init__(self, name: str, args: TableReplicaKeyArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("microservices:data:TableReplicaKey", name, None, opts)
        policy = pulumi.Output.from_input(args.account_id).apply(lambda a: json.dumps(replica_key_policy(a)))
        key = kms.Key(f"{name}-key", region=args.region, enable_key_rotation=True, deletion_window_in_days=30,
                      description=f"{args.environment} DynamoDB table replicas in {args.region} (owned by the primary)",
                      policy=policy, opts=pulumi.ResourceOptions(parent=self))
        kms.Alias(f"{name}-alias", region=args.region, name=f"alias/{args.environment}-table-replicas",
                  target_key_id=key.key_id, opts=pulumi.ResourceOptions(parent=self))
        self.key_arn = key.arn
        self.register_outputs({"keyArn": self.key_arn})


@dataclass(frozen=True)
class TableReplica:
    region: str
    kms_key_arn: pulumi.Input[str]


@dataclass(frozen=True)
class ServiceTableArgs:
    """environment/service: name the table `<environment>-<service>`.
    spec: the catalog's `data` entry. kms_key_arn: the platform key of this region.
    deletion_protection: prod. replica: the standby region and its replica key (prod), or None.
    """

    environment: str
    service: str
    spec: DynamoDbData
    kms_key_arn: pulumi.Input[str]
    deletion_protection: bool = False
    replica: TableReplica | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        table_name(self.environment, self.service)
        if self.replica is not None and self.replica.region == "":
            raise ValueError("ServiceTableArgs: replica.region is empty")


class ServiceTable(pulumi.ComponentResource):
    table_name: pulumi.Output[str]
    """Name of the table (the same in the replica's region)."""
    table_arn: pulumi.Output[str]
    """ARN of the table in this region."""
    stream_arn: pulumi.Output[str] | None
    """ARN of the table's NEW_IMAGE stream when the service has an outbox, else None."""
    replica_arns: pulumi.Output[dict[str, Any]]
    """Replica region -> {arn, streamArn} (empty without a replica)."""

    def __init__(self, name: str, args: ServiceTableArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("microservices:data:ServiceTable", name, None, opts)
        spec = args.spec
        view_type = stream_view_type(spec, args.replica is not None)
        replicas: list[dynamodb.TableReplicaArgsDict] | None = None
        if args.replica is not None:
            replicas = [{"region_name": args.replica.region, "kms_key_arn": args.replica.kms_key_arn,
                         # Per-replica PITR and deletion protection default to false; the replica is the copy
                         # the standby fails over to, so it keeps the primary's guarantees.
                         "point_in_time_recovery": True,
                         "deletion_protection_enabled": args.deletion_protection, "propagate_tags": True}]
        indexes: list[dynamodb.TableGlobalSecondaryIndexArgsDict] = []
        for i in spec.indexes:
            index: dynamodb.TableGlobalSecondaryIndexArgsDict = {
                "name": i.name, "hash_key": i.partition_key.name, "projection_type": i.projection}
            if i.sort_key:
                index["range_key"] = i.sort_key.name
            if i.non_key_attributes:
                index["non_key_attributes"] = list(i.non_key_attributes)
            indexes.append(index)
        attributes: list[dynamodb.TableAttributeArgsDict] = [
            {"name": n, "type": t} for n, t in spec.attribute_types().items()]
        ttl: dynamodb.TableTtlArgsDict | None = (
            {"attribute_name": spec.ttl_attribute, "enabled": True} if spec.ttl_attribute else None)
        self.table = dynamodb.Table(
            f"{name}-table", name=table_name(args.environment, args.service), billing_mode="PAY_PER_REQUEST",
            hash_key=spec.partition_key.name, range_key=spec.sort_key.name if spec.sort_key else None,
            attributes=attributes, global_secondary_indexes=indexes or None,
            point_in_time_recovery={"enabled": True},
            server_side_encryption={"enabled": True, "kms_key_arn": args.kms_key_arn},
            deletion_protection_enabled=args.deletion_protection,
            stream_enabled=view_type is not None, stream_view_type=view_type,
            ttl=ttl,
            replicas=replicas, tags=dict(args.tags), opts=pulumi.ResourceOptions(parent=self))
        self.table_name = self.table.name
        self.table_arn = self.table.arn
        self.stream_arn = self.table.stream_arn if spec.outbox else None
        self.replica_arns = self.table.replicas.apply(
            lambda rs: {_field(r, "region_name"):
                        {"arn": _field(r, "arn"), "streamArn": _field(r, "stream_arn")} for r in (rs or [])})
        self.register_outputs({"tableName": self.table_name, "tableArn": self.table_arn,
                               "replicaArns": self.replica_arns})


def _field(value: object, key: str) -> Any:
    return getattr(value, key) if hasattr(value, key) else cast(Mapping[str, Any], value).get(key)


def index_arns(table_arn: str, spec: DynamoDbData) -> list[str]:
    """The ARNs a Query on the table's indexes is authorized against (`<table>/index/<name>`)."""
    return [f"{table_arn}/index/{index.name}" for index in spec.indexes]


def table_outputs(name: pulumi.Input[str], arn: pulumi.Input[str], replicas: pulumi.Input[dict[str, Any]],
                  replica_key_arn: pulumi.Input[str] | None) -> pulumi.Output[dict[str, Any]]:
    """What the primary exports per table (`dataTables.<service>`) for the standby: the replica has the
    table's name; its ARN, stream ARN and key are those of the standby region."""
    return pulumi.Output.all(name=name, arn=arn, replicas=replicas, replicaKeyArn=replica_key_arn)
