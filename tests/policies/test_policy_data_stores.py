"""Queues, tables and databases: sqs-queue-dead-letter, sqs-queue-encryption, dynamodb-table-pitr,
dynamodb-table-kms, rds-cluster-encrypted, rds-not-public, rds-deletion-protection-prod."""

from __future__ import annotations

import json

import pytest
from policy_records import UNKNOWN, StackRecords, of_policy

QUEUE = "aws:sqs/queue:Queue"
KEY = "arn:aws:kms:eu-central-1:123456789012:key/1"
DLQ_ARN = "arn:aws:sqs:eu-central-1:123456789012:orders-dlq"


def findings(pack, type_, inputs, policy, stack=None):
    stack = stack or StackRecords()
    record = stack.add(type_, "r", inputs)
    return of_policy(pack.analyze(record, stack.records), policy)


def dead_letter_findings(pack, stack):
    return of_policy(pack.analyze_stack(stack.records), "sqs-queue-dead-letter")


def test_queue_with_redrive_to_its_dlq_passes_and_the_dlq_is_recognised_by_arn(pack):
    stack = StackRecords()
    stack.add(QUEUE, "orders-dlq", {"kmsMasterKeyId": KEY}, outputs={"arn": DLQ_ARN})
    stack.add(QUEUE, "orders", {"kmsMasterKeyId": KEY, "redrivePolicy": json.dumps(
        {"deadLetterTargetArn": DLQ_ARN, "maxReceiveCount": 5})})
    assert dead_letter_findings(pack, stack) == []


def test_dlq_reached_only_through_a_property_dependency_passes(pack):
    stack = StackRecords()
    dlq = stack.add(QUEUE, "orders-dlq", {"kmsMasterKeyId": KEY}, outputs={"arn": UNKNOWN})
    stack.add(QUEUE, "orders", {"kmsMasterKeyId": KEY, "redrivePolicy": UNKNOWN}, deps={"redrivePolicy": [dlq]})
    assert dead_letter_findings(pack, stack) == []


def test_event_target_and_pipe_dead_letter_queues_need_no_redrive_of_their_own(pack):
    stack = StackRecords()
    target_dlq = stack.add(QUEUE, "target-dlq", {"kmsMasterKeyId": KEY}, outputs={"arn": UNKNOWN})
    stack.add(QUEUE, "pipe-dlq", {"kmsMasterKeyId": KEY}, outputs={"arn": DLQ_ARN})
    stack.add("aws:cloudwatch/eventTarget:EventTarget", "t", {"deadLetterConfig": {"arn": UNKNOWN}},
              deps={"deadLetterConfig": [target_dlq]})
    stack.add("aws:pipes/pipe:Pipe", "p", {"sourceParameters": {"dynamodbStreamParameters": {
        "deadLetterConfig": {"arn": DLQ_ARN}}}})
    assert dead_letter_findings(pack, stack) == []


def test_queue_without_redrive_that_is_no_dlq_is_a_violation(pack):
    stack = StackRecords()
    stack.add(QUEUE, "orders", {"kmsMasterKeyId": KEY}, outputs={"arn": "arn:aws:sqs:eu-central-1:1:orders"})
    found = dead_letter_findings(pack, stack)
    assert len(found) == 1 and "has no redrivePolicy" in found[0].detail


@pytest.mark.parametrize("key, expected", [(KEY, 0), (UNKNOWN, 0), (None, 1), ("", 1)])
def test_queues_are_kms_encrypted(pack, key, expected):
    inputs = {} if key is None else {"kmsMasterKeyId": key}
    assert len(findings(pack, QUEUE, inputs, "sqs-queue-encryption")) == expected


GOOD_TABLE = {"pointInTimeRecovery": {"enabled": True}, "serverSideEncryption": {"enabled": True, "kmsKeyArn": KEY},
              "replicas": [{"regionName": "eu-west-1", "kmsKeyArn": KEY, "pointInTimeRecovery": True}]}


@pytest.mark.parametrize("change, expected", [
    ({}, 0),
    ({"pointInTimeRecovery": {"enabled": False}}, 1),
    ({"pointInTimeRecovery": None}, 1),
    ({"replicas": [{"regionName": "eu-west-1", "kmsKeyArn": KEY}]}, 1),
])
def test_tables_and_replicas_have_point_in_time_recovery(pack, change, expected):
    inputs = {k: v for k, v in {**GOOD_TABLE, **change}.items() if v is not None}
    assert len(findings(pack, "aws:dynamodb/table:Table", inputs, "dynamodb-table-pitr")) == expected


@pytest.mark.parametrize("change, expected", [
    ({}, 0),
    ({"serverSideEncryption": {"enabled": True, "kmsKeyArn": UNKNOWN}}, 0),
    ({"serverSideEncryption": {"enabled": True}}, 1),
    ({"serverSideEncryption": None}, 1),
    ({"replicas": [{"regionName": "eu-west-1", "pointInTimeRecovery": True}]}, 1),
])
def test_tables_and_replicas_use_a_customer_managed_key(pack, change, expected):
    inputs = {k: v for k, v in {**GOOD_TABLE, **change}.items() if v is not None}
    assert len(findings(pack, "aws:dynamodb/table:Table", inputs, "dynamodb-table-kms")) == expected


@pytest.mark.parametrize("type_, encrypted, expected", [
    ("aws:rds/cluster:Cluster", True, 0), ("aws:rds/cluster:Cluster", False, 1), ("aws:rds/cluster:Cluster", None, 1),
    ("aws:rds/globalCluster:GlobalCluster", True, 0), ("aws:rds/globalCluster:GlobalCluster", None, 1)])
def test_database_storage_is_encrypted(pack, type_, encrypted, expected):
    inputs = {} if encrypted is None else {"storageEncrypted": encrypted}
    assert len(findings(pack, type_, inputs, "rds-cluster-encrypted")) == expected


@pytest.mark.parametrize("public, expected", [(False, 0), (None, 0), (True, 1), (UNKNOWN, 1)])
def test_database_instances_are_not_public(pack, public, expected):
    inputs = {"instanceClass": "db.serverless"} if public is None else {"publiclyAccessible": public}
    assert len(findings(pack, "aws:rds/clusterInstance:ClusterInstance", inputs, "rds-not-public")) == expected


@pytest.mark.parametrize("stack_name, protected, expected", [
    ("prod", True, 0), ("prod-euw1", False, 1), ("prod", None, 1), ("staging", False, 0), ("sandbox", False, 1)])
def test_prod_databases_are_deletion_protected_by_stack_not_by_tag(pack, stack_name, protected, expected):
    # A staging tag on a prod stack's database does not exempt it; an unmapped stack is held to prod's rules.
    stack = StackRecords(stack=stack_name, default_tags={"environment": "staging", "cost-center": "c", "owner": "o"})
    inputs = {"storageEncrypted": True} if protected is None else {"deletionProtection": protected}
    assert len(findings(pack, "aws:rds/cluster:Cluster", inputs, "rds-deletion-protection-prod", stack)) == expected
