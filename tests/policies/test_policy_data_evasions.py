"""Data policies judge intent: AWS managed keys under any spelling, database types and settings that make a
database public or unprotected, public snapshots, and what really makes a queue a dead-letter queue."""

from __future__ import annotations

import json

import pytest
from views import UNKNOWN, Stack, findings, view

from policies.data_keys import DATA_KEYS_CUSTOMER_MANAGED
from policies.data_stores import DYNAMODB_TABLE_KMS, DYNAMODB_TABLE_PITR, SQS_QUEUE_DEAD_LETTER, SQS_QUEUE_ENCRYPTION
from policies.databases import (
    RDS_CLUSTER_ENCRYPTED,
    RDS_DELETION_PROTECTION_PROD,
    RDS_NOT_PUBLIC,
    RDS_SNAPSHOT_NOT_PUBLIC,
)

QUEUE = "aws:sqs/queue:Queue"
TABLE = "aws:dynamodb/table:Table"
REPLICA = "aws:dynamodb/tableReplica:TableReplica"
KEY_ARN = "arn:aws:kms:eu-central-1:123456789012:key/1111"
FOREIGN_KEY_ARN = "arn:aws:kms:eu-central-1:123456789012:key/9999"


@pytest.mark.parametrize("key", ["alias/aws/sqs", "arn:aws:kms:eu-central-1:123456789012:alias/aws/sqs"])
def test_a_queue_under_an_aws_managed_key_alias_is_refused(key):
    [finding] = findings(SQS_QUEUE_ENCRYPTION, view(QUEUE, {"kmsMasterKeyId": key}))
    assert "AWS managed key" in finding.message


@pytest.mark.parametrize("table", [
    {"serverSideEncryption": {"enabled": True, "kmsKeyArn": "alias/aws/dynamodb"}},
    {"serverSideEncryption": {"enabled": True, "kmsKeyArn": KEY_ARN},
     "replicas": [{"regionName": "eu-west-1", "kmsKeyArn": "arn:aws:kms:eu-west-1:1:alias/aws/dynamodb"}]},
])
def test_a_table_or_replica_under_the_aws_managed_dynamodb_key_is_refused(table):
    assert len(findings(DYNAMODB_TABLE_KMS, view(TABLE, table))) == 1


def test_a_separate_table_replica_is_judged_for_pitr_and_key():
    assert len(findings(DYNAMODB_TABLE_PITR, view(REPLICA, {"kmsKeyArn": KEY_ARN}))) == 1
    assert len(findings(DYNAMODB_TABLE_KMS, view(REPLICA, {"pointInTimeRecovery": True}))) == 1
    good = view(REPLICA, {"kmsKeyArn": KEY_ARN, "pointInTimeRecovery": True})
    assert findings(DYNAMODB_TABLE_PITR, good) == [] and findings(DYNAMODB_TABLE_KMS, good) == []


def _keyed_stack(reference: str, *, with_key: bool = True) -> Stack:
    stack = Stack()
    if with_key:
        stack.add("aws:kms/key:Key", "platform", {"arn": KEY_ARN, "id": "1111"})
    stack.add(QUEUE, "orders", {"kmsMasterKeyId": reference})
    return stack


def test_a_key_arn_that_is_no_key_of_the_stack_may_be_aws_managed_and_is_refused():
    [finding] = findings(DATA_KEYS_CUSTOMER_MANAGED, _keyed_stack(FOREIGN_KEY_ARN).views)
    assert "no key of this stack" in finding.message


def test_the_stacks_own_key_by_arn_or_dependency_and_acknowledged_external_keys_pass():
    assert findings(DATA_KEYS_CUSTOMER_MANAGED, _keyed_stack(KEY_ARN).views) == []
    stack = Stack()
    key = stack.add("aws:kms/key:Key", "platform", {"arn": UNKNOWN})
    stack.add(TABLE, "t", {"serverSideEncryption": {"enabled": True, "kmsKeyArn": UNKNOWN}},
              deps={"serverSideEncryption": [key]})
    assert findings(DATA_KEYS_CUSTOMER_MANAGED, stack.views) == []
    external = [{"key": "arn:aws:kms:eu-central-1:123456789012:key/9*", "reason": "the shared data key of account X"}]
    assert findings(DATA_KEYS_CUSTOMER_MANAGED, _keyed_stack(FOREIGN_KEY_ARN).views, externalKeys=external) == []


RDS_INSTANCE = "aws:rds/instance:Instance"
GOOD_INSTANCE = {"storageEncrypted": True, "publiclyAccessible": False, "dbSubnetGroupName": "private",
                 "deletionProtection": True}


def test_an_rds_instance_is_judged_like_a_cluster():
    bad = view(RDS_INSTANCE, {"publiclyAccessible": True}, stack="prod")
    assert len(findings(RDS_CLUSTER_ENCRYPTED, bad)) == 1
    assert len(findings(RDS_NOT_PUBLIC, bad)) == 2  # public, and in the default VPC
    assert len(findings(RDS_DELETION_PROTECTION_PROD, bad)) == 1
    good = view(RDS_INSTANCE, GOOD_INSTANCE, stack="prod")
    for spec in (RDS_CLUSTER_ENCRYPTED, RDS_NOT_PUBLIC, RDS_DELETION_PROTECTION_PROD):
        assert findings(spec, good) == []


def test_a_multi_az_cluster_made_public_or_left_in_the_default_vpc_is_refused():
    public = view("aws:rds/cluster:Cluster", {"publiclyAccessible": True, "dbSubnetGroupName": "private"})
    assert "publiclyAccessible is True" in findings(RDS_NOT_PUBLIC, public)[0].message
    default_vpc = view("aws:rds/cluster:Cluster", {"storageEncrypted": True})
    assert "default VPC" in findings(RDS_NOT_PUBLIC, default_vpc)[0].message
    assert findings(RDS_NOT_PUBLIC, view("aws:rds/cluster:Cluster", {"dbSubnetGroupName": UNKNOWN})) == []


def test_global_cluster_deletion_protection_is_judged_and_an_encrypted_source_needs_no_flag():
    unprotected = view("aws:rds/globalCluster:GlobalCluster", {"storageEncrypted": True}, stack="prod")
    assert len(findings(RDS_DELETION_PROTECTION_PROD, unprotected)) == 1
    from_source = view("aws:rds/globalCluster:GlobalCluster",
                       {"sourceDbClusterIdentifier": "arn:aws:rds:eu-central-1:1:cluster:orders"})
    assert findings(RDS_CLUSTER_ENCRYPTED, from_source) == []
    assert len(findings(RDS_CLUSTER_ENCRYPTED, view("aws:rds/globalCluster:GlobalCluster", {}))) == 1


@pytest.mark.parametrize("type_", ["aws:rds/snapshot:Snapshot", "aws:rds/clusterSnapshot:ClusterSnapshot",
                                   "aws:rds/snapshotCopy:SnapshotCopy",
                                   "aws:rds/clusterSnapshotCopy:ClusterSnapshotCopy"])
def test_snapshots_shared_with_all_are_refused_and_named_accounts_pass(type_):
    assert len(findings(RDS_SNAPSHOT_NOT_PUBLIC, view(type_, {"sharedAccounts": ["210987654321", "All"]}))) == 1
    assert findings(RDS_SNAPSHOT_NOT_PUBLIC, view(type_, {"sharedAccounts": ["210987654321"]})) == []


DLQ_ARN = "arn:aws:sqs:eu-central-1:123456789012:orders-dlq"


def test_a_queue_named_by_a_queue_policy_or_alarm_is_no_dead_letter_queue():
    stack = Stack()
    stack.add(QUEUE, "orders", {"arn": "arn:aws:sqs:eu-central-1:123456789012:orders"})
    stack.add("aws:sqs/queuePolicy:QueuePolicy", "p", {"policy": json.dumps(
        {"Statement": [{"Resource": "arn:aws:sqs:eu-central-1:123456789012:orders"}]}),
        "redrivePolicy": json.dumps({"note": "arn:aws:sqs:eu-central-1:123456789012:orders"})})
    stack.add("aws:cloudwatch/metricAlarm:MetricAlarm", "a", {"deadLetterConfig": {
        "arn": "arn:aws:sqs:eu-central-1:123456789012:orders"}})
    assert len(findings(SQS_QUEUE_DEAD_LETTER, stack.views)) == 1


def test_a_redrive_policy_without_a_target_is_no_redrive():
    stack = Stack()
    stack.add(QUEUE, "orders", {"redrivePolicy": json.dumps({"maxReceiveCount": 5})})
    assert len(findings(SQS_QUEUE_DEAD_LETTER, stack.views)) == 1


def test_a_redrive_set_through_the_separate_redrive_policy_resource_is_seen():
    stack = Stack()
    stack.add(QUEUE, "orders", {"id": "https://sqs.eu-central-1.amazonaws.com/123456789012/orders"})
    stack.add(QUEUE, "orders-dlq", {"arn": DLQ_ARN})
    stack.add("aws:sqs/redrivePolicy:RedrivePolicy", "r", {
        "queueUrl": "https://sqs.eu-central-1.amazonaws.com/123456789012/orders",
        "redrivePolicy": json.dumps({"deadLetterTargetArn": DLQ_ARN, "maxReceiveCount": 5})})
    assert findings(SQS_QUEUE_DEAD_LETTER, stack.views) == []
    unknown = Stack()
    queue = unknown.add(QUEUE, "orders", {"id": UNKNOWN})
    dlq = unknown.add(QUEUE, "orders-dlq", {"arn": UNKNOWN})
    unknown.add("aws:sqs/redrivePolicy:RedrivePolicy", "r", {"queueUrl": UNKNOWN, "redrivePolicy": UNKNOWN},
                deps={"queueUrl": [queue], "redrivePolicy": [dlq]})
    assert findings(SQS_QUEUE_DEAD_LETTER, unknown.views) == []
