"""IAM documents for a service's data and events: its task role's statements, the outbox pipe's role, and
the permissions-boundary statements that admit no more than those for any service of the environment.

Pure: plain strings in, JSON-ready dicts out. No action wildcards; every statement names the service's
own resources (its table and index ARNs, its queues, its bus with its own `events:source`, its database
user). Action lists come from the Service Authorization Reference; where a data-plane call is authorized
against several actions (TransactWriteItems against PutItem/UpdateItem/DeleteItem/ConditionCheckItem) the
individual actions are granted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from components.mesh_service.service_iam import PolicyScopeError, parse_arn

# Item reads and writes on the table; Query and Scan also on its indexes.
TABLE_ACTIONS = ["dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem",
                 "dynamodb:DeleteItem", "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem",
                 "dynamodb:Query", "dynamodb:Scan", "dynamodb:UpdateItem"]
INDEX_ACTIONS = ["dynamodb:Query", "dynamodb:Scan"]
# What a consumer does with its queue (SQS developer guide, sqs-api-permissions-reference.html).
QUEUE_CONSUMER_ACTIONS = ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                          "sqs:GetQueueUrl", "sqs:ReceiveMessage"]
# Reading a DynamoDB stream (EventBridge user guide, eb-pipes-dynamodb.html).
STREAM_READ_ACTIONS = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
# ListStreams has no resource type in the Service Authorization Reference: named on a stream ARN it can
# never be allowed, so it gets its own statement on "*".
STREAM_LIST_ACTIONS = ["dynamodb:ListStreams"]
# DynamoDB and SQS use a customer managed key on the caller's behalf; the caller's policy allows these
# only through that service (kms:ViaService). The DynamoDB list is AWS's key-policy example for DynamoDB
# ("Allow access through Amazon DynamoDB"), without the wildcards.
TABLE_KEY_ACTIONS = ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]
QUEUE_KEY_ACTIONS = ["kms:Decrypt"]


@dataclass(frozen=True)
class ServiceDataScope:
    """What one service's tasks may touch in one region.

    table_arn / index_names / table_key_arn: its table (in the standby: the replica) and the key that
    encrypts it there. queue_arns / queue_key_arn: the queues it consumes and their key.
    bus_arn / event_source: where it may publish, and only as itself. database_user_arn: the
    `rds-db:connect` resource of its database user.
    """

    partition: str
    region: str
    account_id: str
    table_arn: str | None = None
    index_names: Sequence[str] = ()
    table_key_arn: str | None = None
    queue_arns: Sequence[str] = ()
    queue_key_arn: str | None = None
    bus_arn: str | None = None
    event_source: str | None = None
    database_user_arn: str | None = None

    def __post_init__(self) -> None:
        for arn, service in [(self.table_arn, "dynamodb"), (self.bus_arn, "events"),
                             (self.database_user_arn, "rds-db"),
                             *((a, "sqs") for a in self.queue_arns),
                             (self.table_key_arn, "kms"), (self.queue_key_arn, "kms")]:
            if arn is None:
                continue
            parts = parse_arn(arn)
            if parts["service"] != service or parts["account"] != self.account_id or parts["region"] != self.region:
                raise PolicyScopeError(f"{arn!r} is not a {service} resource of {self.account_id} in {self.region}")
        if (self.bus_arn is None) != (self.event_source is None):
            raise PolicyScopeError("bus_arn and event_source go together: a publisher may only publish as itself")
        if (self.table_arn is None) != (self.table_key_arn is None):
            raise PolicyScopeError("table_arn needs table_key_arn (the table is encrypted with a customer key)")
        if bool(self.queue_arns) != (self.queue_key_arn is not None):
            raise PolicyScopeError("queue_arns need queue_key_arn (the queues are encrypted with the platform key)")


def _via(service: str, region: str) -> dict[str, Any]:
    return {"StringEquals": {"kms:ViaService": f"{service}.{region}.amazonaws.com"}}


def task_role_statements(scope: ServiceDataScope) -> list[dict[str, Any]]:
    """The statements a service's task role gets for its data and events (empty when it has none)."""
    statements: list[dict[str, Any]] = []
    if scope.table_arn:
        statements.append({"Sid": "OwnTable", "Effect": "Allow", "Action": TABLE_ACTIONS,
                           "Resource": scope.table_arn})
        if scope.index_names:
            statements.append({"Sid": "OwnTableIndexes", "Effect": "Allow", "Action": INDEX_ACTIONS,
                               "Resource": [f"{scope.table_arn}/index/{n}" for n in scope.index_names]})
        statements.append({"Sid": "OwnTableKeyThroughDynamoDb", "Effect": "Allow", "Action": TABLE_KEY_ACTIONS,
                           "Resource": scope.table_key_arn, "Condition": _via("dynamodb", scope.region)})
    if scope.queue_arns:
        statements.append({"Sid": "OwnQueues", "Effect": "Allow", "Action": QUEUE_CONSUMER_ACTIONS,
                           "Resource": list(scope.queue_arns)})
        statements.append({"Sid": "OwnQueueKeyThroughSqs", "Effect": "Allow", "Action": QUEUE_KEY_ACTIONS,
                           "Resource": scope.queue_key_arn, "Condition": _via("sqs", scope.region)})
    if scope.bus_arn:
        # events:source is the condition key for PutEvents' Source (EventBridge user guide,
        # eb-use-conditions.html): the service cannot publish as another service.
        statements.append({"Sid": "PublishAsItselfOnOwnBus", "Effect": "Allow", "Action": ["events:PutEvents"],
                           "Resource": scope.bus_arn,
                           "Condition": {"StringEquals": {"events:source": scope.event_source}}})
    if scope.database_user_arn:
        statements.append({"Sid": "ConnectAsOwnDatabaseUser", "Effect": "Allow", "Action": ["rds-db:connect"],
                           "Resource": scope.database_user_arn})
    return statements


def database_user_arn(partition: str, region: str, account_id: str, cluster_resource_id: str, user: str) -> str:
    """`rds-db:connect` names the cluster's resource id, not its identifier (Aurora user guide,
    UsingWithRDS.IAMDBAuth.IAMPolicy.html)."""
    if not cluster_resource_id.startswith("cluster-"):
        raise PolicyScopeError(f"{cluster_resource_id!r} is not a DB cluster resource id (cluster-...)")
    return f"arn:{partition}:rds-db:{region}:{account_id}:dbuser:{cluster_resource_id}/{user}"


@dataclass(frozen=True)
class PipeScope:
    stream_arn: str
    table_key_arn: str
    bus_arn: str
    event_source: str
    dead_letter_queue_arn: str
    queue_key_arn: str


# Putting a message on an SSE-KMS queue (SQS developer guide, sqs-key-management.html: the producer needs
# kms:GenerateDataKey and kms:Decrypt).
QUEUE_PRODUCER_KEY_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"]


def pipe_role_policy(scope: PipeScope) -> dict[str, Any]:
    """The outbox pipe reads exactly its table's stream, puts events on its bus only as the service, and
    sends batches it gave up on to its own dead-letter queue.

    kms:Decrypt through DynamoDB: stream records are encrypted with the table's key; that the reader needs
    it is our reading of DynamoDB's encryption notes, not stated for Pipes (docs/events.md).
    """
    stream, bus = parse_arn(scope.stream_arn), parse_arn(scope.bus_arn)
    if stream["service"] != "dynamodb" or "/stream/" not in stream["resource"]:
        raise PolicyScopeError(f"{scope.stream_arn!r} is not a DynamoDB stream ARN")
    if bus["service"] != "events" or not bus["resource"].startswith("event-bus/"):
        raise PolicyScopeError(f"{scope.bus_arn!r} is not an event bus ARN")
    if parse_arn(scope.dead_letter_queue_arn)["service"] != "sqs":
        raise PolicyScopeError(f"{scope.dead_letter_queue_arn!r} is not an SQS queue ARN")
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadOwnTableStream", "Effect": "Allow", "Action": STREAM_READ_ACTIONS, "Resource": scope.stream_arn},
        {"Sid": "ListStreams", "Effect": "Allow", "Action": STREAM_LIST_ACTIONS, "Resource": "*"},
        {"Sid": "DecryptStreamRecordsThroughDynamoDb", "Effect": "Allow", "Action": ["kms:Decrypt"],
         "Resource": scope.table_key_arn, "Condition": _via("dynamodb", stream["region"])},
        {"Sid": "PublishAsTheServiceOnOwnBus", "Effect": "Allow", "Action": ["events:PutEvents"],
         "Resource": scope.bus_arn, "Condition": {"StringEquals": {"events:source": scope.event_source}}},
        {"Sid": "DeadLetterToOwnQueue", "Effect": "Allow", "Action": ["sqs:SendMessage"],
         "Resource": scope.dead_letter_queue_arn},
        {"Sid": "EncryptDeadLettersThroughSqs", "Effect": "Allow", "Action": QUEUE_PRODUCER_KEY_ACTIONS,
         "Resource": scope.queue_key_arn, "Condition": _via("sqs", stream["region"])},
    ]}


def pipe_trust_policy(account_id: str, region: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "PipesAssumeRole", "Effect": "Allow", "Principal": {"Service": "pipes.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id},
                      "ArnLike": {"aws:SourceArn": f"arn:aws:pipes:{region}:{account_id}:pipe/*"}}}]}


@dataclass(frozen=True)
class BoundaryScope:
    """partition/region/account: where the stack runs. environment: prefix of every table, queue, bus and
    pipe name. key_arns: the keys tables and queues are encrypted with in this region (platform key; in a
    standby also the primary-owned table replica key). source_prefix: every service's events:source
    starts with it."""

    partition: str
    region: str
    account_id: str
    environment: str
    key_arns: Sequence[str] = field(default_factory=tuple)
    source_prefix: str = "microservices."


def boundary_statements(scope: BoundaryScope) -> list[dict[str, Any]]:
    """What the permissions boundary must admit for data and events: the union of `task_role_statements`
    and `pipe_role_policy` over every service of the environment, and nothing else."""
    base = f"arn:{scope.partition}:{{service}}:{scope.region}:{scope.account_id}"
    dynamodb, sqs = base.format(service="dynamodb"), base.format(service="sqs")
    events, rds_db = base.format(service="events"), base.format(service="rds-db")
    env = scope.environment
    return [
        {"Sid": "DataOwnEnvironmentTables", "Effect": "Allow", "Action": TABLE_ACTIONS,
         "Resource": [f"{dynamodb}:table/{env}-*", f"{dynamodb}:table/{env}-*/index/*"]},
        {"Sid": "DataOwnEnvironmentStreams", "Effect": "Allow", "Action": STREAM_READ_ACTIONS,
         "Resource": f"{dynamodb}:table/{env}-*/stream/*"},
        {"Sid": "DataListStreams", "Effect": "Allow", "Action": STREAM_LIST_ACTIONS, "Resource": "*"},
        {"Sid": "DataOwnEnvironmentQueues", "Effect": "Allow", "Action": QUEUE_CONSUMER_ACTIONS,
         "Resource": f"{sqs}:{env}-*"},
        {"Sid": "DataOutboxDeadLetters", "Effect": "Allow", "Action": ["sqs:SendMessage"],
         "Resource": f"{sqs}:{env}-*-outbox-dlq"},
        {"Sid": "DataPublishOnOwnEnvironmentBus", "Effect": "Allow", "Action": ["events:PutEvents"],
         "Resource": f"{events}:event-bus/{env}-*",
         "Condition": {"StringLike": {"events:source": f"{scope.source_prefix}*"}}},
        # Cluster resource ids are random (cluster-...), so the environment cannot be named here; the task
        # role's own statement names its cluster.
        {"Sid": "DataConnectAsDatabaseUsers", "Effect": "Allow", "Action": ["rds-db:connect"],
         "Resource": f"{rds_db}:dbuser:cluster-*/*"},
        {"Sid": "DataKeysThroughDynamoDbAndSqs", "Effect": "Allow",
         "Action": sorted(set(TABLE_KEY_ACTIONS) | set(QUEUE_KEY_ACTIONS) | set(QUEUE_PRODUCER_KEY_ACTIONS)),
         "Resource": list(scope.key_arns),
         "Condition": {"StringEquals": {"kms:ViaService": [f"dynamodb.{scope.region}.amazonaws.com",
                                                           f"sqs.{scope.region}.amazonaws.com"]}}},
    ]
