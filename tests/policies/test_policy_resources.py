"""ECR repositories, log groups, KMS keys and App Mesh."""

from __future__ import annotations

import pytest
from views import UNKNOWN, findings, messages, not_judged, view

from policies.app_mesh import NO_APP_MESH
from policies.ecr_repositories import ECR_IMMUTABLE_TAGS, ECR_SCAN_ON_PUSH
from policies.kms_keys import KMS_KEY_ROTATION
from policies.log_groups import LOG_GROUP_KMS, LOG_GROUP_RETENTION

REPOSITORY = "aws:ecr/repository:Repository"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


@pytest.mark.parametrize("mutability, expected", [
    ("IMMUTABLE", 0), ("IMMUTABLE_WITH_EXCLUSION", 0), ("MUTABLE", 1), (None, 1), (UNKNOWN, 1)])
def test_ecr_tags_must_be_immutable(mutability, expected):
    props = {"imageScanningConfiguration": {"scanOnPush": True}}
    if mutability:
        props["imageTagMutability"] = mutability
    assert len(findings(ECR_IMMUTABLE_TAGS, view(REPOSITORY, props))) == expected


@pytest.mark.parametrize("scanning, expected", [({"scanOnPush": True}, 0), ({"scanOnPush": False}, 1), (None, 1),
                                                ({"scanOnPush": UNKNOWN}, 1)])
def test_ecr_must_scan_on_push(scanning, expected):
    props = {"imageTagMutability": "IMMUTABLE"}
    if scanning is not None:
        props["imageScanningConfiguration"] = scanning
    assert len(findings(ECR_SCAN_ON_PUSH, view(REPOSITORY, props))) == expected


@pytest.mark.parametrize("retention, expected", [(30, 0), (0, 1), (None, 1), (UNKNOWN, 1)])
def test_log_group_needs_retention(retention, expected):
    props = {"kmsKeyId": "arn:key"}
    if retention is not None:
        props["retentionInDays"] = retention
    assert len(findings(LOG_GROUP_RETENTION, view(LOG_GROUP, props))) == expected


def test_log_group_retention_upper_bound_is_configurable():
    group = view(LOG_GROUP, {"retentionInDays": 365})
    assert findings(LOG_GROUP_RETENTION, group) == []
    [message] = messages(LOG_GROUP_RETENTION, group, maxRetentionDays=90)
    assert "above the allowed 90" in message


def test_log_group_with_an_unknown_key_is_deferred():
    assert "kmsKeyId is unknown" in not_judged(LOG_GROUP_KMS, view(LOG_GROUP, {"retentionInDays": 30, "kmsKeyId": UNKNOWN}))


@pytest.mark.parametrize("key, expected", [("arn:aws:kms:eu-central-1:1:key/x", 0), (None, 1), ("", 1)])
def test_log_group_needs_a_kms_key(key, expected):
    props = {"retentionInDays": 30}
    if key is not None:
        props["kmsKeyId"] = key
    assert len(findings(LOG_GROUP_KMS, view(LOG_GROUP, props))) == expected


@pytest.mark.parametrize("props, expected", [
    ({"enableKeyRotation": True}, 0),
    ({}, 1),
    ({"enableKeyRotation": UNKNOWN}, 1),
    ({"customerMasterKeySpec": "RSA_2048", "keyUsage": "SIGN_VERIFY"}, 0),
    ({"customerMasterKeySpec": "SYMMETRIC_DEFAULT", "enableKeyRotation": False}, 1),
])
def test_symmetric_kms_keys_rotate(props, expected):
    assert len(findings(KMS_KEY_ROTATION, view("aws:kms/key:Key", props))) == expected


@pytest.mark.parametrize("type_, expected", [("aws:appmesh/mesh:Mesh", 1), ("aws:appmesh/virtualNode:VirtualNode", 1),
                                             ("aws:servicediscovery/httpNamespace:HttpNamespace", 0)])
def test_app_mesh_resources_are_violations(type_, expected):
    found = messages(NO_APP_MESH, view(type_))
    assert len(found) == expected
    if expected:
        assert "Service Connect" in found[0]
