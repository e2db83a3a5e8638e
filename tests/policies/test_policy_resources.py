"""ECR repositories, log groups, KMS keys and App Mesh."""

from __future__ import annotations

import pytest
from policy_records import UNKNOWN, StackRecords, of_policy


def findings(pack, type_, inputs, policy):
    stack = StackRecords()
    record = stack.add(type_, "r", inputs)
    return of_policy(pack.analyze(record, stack.records), policy)


@pytest.mark.parametrize("mutability, expected", [
    ("IMMUTABLE", 0), ("IMMUTABLE_WITH_EXCLUSION", 0), ("MUTABLE", 1), (None, 1), (UNKNOWN, 1)])
def test_ecr_tags_must_be_immutable(pack, mutability, expected):
    inputs = {"imageScanningConfiguration": {"scanOnPush": True}}
    if mutability:
        inputs["imageTagMutability"] = mutability
    assert len(findings(pack, "aws:ecr/repository:Repository", inputs, "ecr-immutable-tags")) == expected


@pytest.mark.parametrize("scanning, expected", [({"scanOnPush": True}, 0), ({"scanOnPush": False}, 1), (None, 1)])
def test_ecr_must_scan_on_push(pack, scanning, expected):
    inputs = {"imageTagMutability": "IMMUTABLE"}
    if scanning is not None:
        inputs["imageScanningConfiguration"] = scanning
    assert len(findings(pack, "aws:ecr/repository:Repository", inputs, "ecr-scan-on-push")) == expected


@pytest.mark.parametrize("retention, expected", [(30, 0), (0, 1), (None, 1), (UNKNOWN, 1)])
def test_log_group_needs_retention(pack, retention, expected):
    inputs = {"kmsKeyId": "arn:key"}
    if retention is not None:
        inputs["retentionInDays"] = retention
    assert len(findings(pack, "aws:cloudwatch/logGroup:LogGroup", inputs, "log-group-retention")) == expected


def test_log_group_retention_upper_bound_is_configurable(pack):
    pack.configure({"log-group-retention": {"maxRetentionDays": 90}})
    found = findings(pack, "aws:cloudwatch/logGroup:LogGroup", {"retentionInDays": 365}, "log-group-retention")
    assert len(found) == 1 and "above the allowed 90" in found[0].detail


@pytest.mark.parametrize("key, expected", [("arn:aws:kms:eu-central-1:1:key/x", 0), (UNKNOWN, 0), (None, 1), ("", 1)])
def test_log_group_needs_a_kms_key(pack, key, expected):
    inputs = {"retentionInDays": 30}
    if key is not None:
        inputs["kmsKeyId"] = key
    assert len(findings(pack, "aws:cloudwatch/logGroup:LogGroup", inputs, "log-group-kms")) == expected


@pytest.mark.parametrize("inputs, expected", [
    ({"enableKeyRotation": True}, 0),
    ({}, 1),
    ({"enableKeyRotation": UNKNOWN}, 1),
    ({"customerMasterKeySpec": "RSA_2048", "keyUsage": "SIGN_VERIFY"}, 0),
    ({"customerMasterKeySpec": "SYMMETRIC_DEFAULT", "enableKeyRotation": False}, 1),
])
def test_symmetric_kms_keys_rotate(pack, inputs, expected):
    assert len(findings(pack, "aws:kms/key:Key", inputs, "kms-key-rotation")) == expected


@pytest.mark.parametrize("type_, expected", [("aws:appmesh/mesh:Mesh", 1), ("aws:appmesh/virtualNode:VirtualNode", 1),
                                             ("aws:servicediscovery/httpNamespace:HttpNamespace", 0)])
def test_app_mesh_resources_are_mandatory_violations(pack, type_, expected):
    found = findings(pack, type_, {}, "no-app-mesh")
    assert len(found) == expected
    if expected:
        assert found[0].enforcement_level == "mandatory" and "Service Connect" in found[0].detail
