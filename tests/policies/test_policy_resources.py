"""ECR repositories and templates, log groups, KMS keys, App Mesh, the default VPC and aws-native resources."""

from __future__ import annotations

import pytest
from views import UNKNOWN, findings, messages, not_judged, view

from policies.app_mesh import NO_APP_MESH
from policies.default_network import NO_DEFAULT_VPC
from policies.ecr_repositories import CREATION_TEMPLATE, ECR_IMMUTABLE_TAGS, ECR_SCAN_ON_PUSH
from policies.kms_keys import KMS_KEY_ROTATION
from policies.log_groups import LOG_GROUP_KMS, LOG_GROUP_RETENTION
from policies.unreadable_resources import NO_UNREADABLE_RESOURCES

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


def test_a_key_in_an_unknown_custom_key_store_is_deferred_not_skipped():
    key = view("aws:kms/key:Key", {"customKeyStoreId": UNKNOWN})
    assert "customKeyStoreId is unknown" in not_judged(KMS_KEY_ROTATION, key)
    assert findings(KMS_KEY_ROTATION, view("aws:kms/key:Key", {"customKeyStoreId": "cks-1234567890abcdef0"})) == []


@pytest.mark.parametrize("type_, expected", [("aws:appmesh/mesh:Mesh", 1), ("aws:appmesh/virtualNode:VirtualNode", 1),
                                             ("aws:servicediscovery/httpNamespace:HttpNamespace", 0)])
def test_app_mesh_resources_are_violations(type_, expected):
    found = messages(NO_APP_MESH, view(type_))
    assert len(found) == expected
    if expected:
        assert "Service Connect" in found[0]


# --- tag-mutability exclusions -----------------------------------------------------------------------

def excluding(*patterns, type_=REPOSITORY):
    return view(type_, {"imageTagMutability": "IMMUTABLE_WITH_EXCLUSION", "imageScanningConfiguration": {"scanOnPush": True},
                        "imageTagMutabilityExclusionFilters": [{"filter": p, "filterType": "WILDCARD"} for p in patterns]})


@pytest.mark.parametrize("type_", [REPOSITORY, CREATION_TEMPLATE])
@pytest.mark.parametrize("pattern", ["*", "**", "?*"])
def test_an_exclusion_filter_that_exempts_every_tag_is_mutability_by_another_name(type_, pattern):
    [message] = messages(ECR_IMMUTABLE_TAGS, excluding("latest", pattern, type_=type_))
    assert "exempts every tag" in message


def test_narrow_exclusion_filters_pass_and_unknown_ones_are_deferred():
    assert findings(ECR_IMMUTABLE_TAGS, excluding("latest", "dev-*")) == []
    assert "filter is unknown" in not_judged(ECR_IMMUTABLE_TAGS, excluding(UNKNOWN))


def test_repository_creation_templates_must_create_immutable_repositories():
    assert len(findings(ECR_IMMUTABLE_TAGS, view(CREATION_TEMPLATE, {"imageTagMutability": "MUTABLE"}))) == 1
    assert findings(ECR_IMMUTABLE_TAGS, view(CREATION_TEMPLATE, {"imageTagMutability": "IMMUTABLE"})) == []


# --- default VPC and default security group ----------------------------------------------------------

@pytest.mark.parametrize("type_", ["aws:ec2/defaultVpc:DefaultVpc", "aws:ec2/defaultSubnet:DefaultSubnet"])
def test_adopting_the_default_vpc_or_its_subnets_is_refused(type_):
    assert "default network" in messages(NO_DEFAULT_VPC, view(type_, {"tags": {"Name": "default"}}))[0]


def test_a_vpc_of_the_program_is_not_the_default_vpc():
    assert findings(NO_DEFAULT_VPC, view("aws:ec2/vpc:Vpc", {"cidrBlock": "10.0.0.0/16"})) == []


def test_the_default_security_group_may_only_be_managed_to_shut_it():
    shut = view("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", {"vpcId": "vpc-1", "ingress": [], "egress": []})
    assert findings(NO_DEFAULT_VPC, shut) == []
    opened = view("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", {"vpcId": "vpc-1", "egress": [], "ingress": [
        {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["10.0.0.0/8"]}]})
    [message] = messages(NO_DEFAULT_VPC, opened)
    assert "1 ingress rule(s)" in message
    unknown = view("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", {"ingress": UNKNOWN, "egress": []})
    assert "ingress is unknown" in not_judged(NO_DEFAULT_VPC, unknown)


# --- resources the pack cannot read -----------------------------------------------------------------------

@pytest.mark.parametrize("type_, props", [
    ("aws-native:iam:Role", {"assumeRolePolicyDocument": {}}),
    ("aws-native:ec2:SecurityGroup", {}),
    ("awscc:iam:Role", {}),
    ("aws:cloudcontrol/resource:Resource", {"typeName": "AWS::IAM::Role", "desiredState": "{}"}),
    ("aws:cloudformation/stack:Stack", {"templateBody": "Resources: {}"}),
    ("aws:cloudformation/stackSet:StackSet", {"templateUrl": "https://example.com/t.yaml"}),
    ("aws:servicecatalog/provisionedProduct:ProvisionedProduct", {}),
])
def test_resources_the_pack_cannot_read_are_refused(type_, props):
    [message] = messages(NO_UNREADABLE_RESOURCES, view(type_, props))
    assert message.startswith("cannot be judged") and "acknowledgedTypes" in message


@pytest.mark.parametrize("type_", ["aws:iam/role:Role", "awsx:ec2:Vpc", "pulumi:providers:aws-native",
                                   "microservices:platform:MeshService"])
def test_resources_of_the_aws_provider_and_components_pass(type_):
    assert findings(NO_UNREADABLE_RESOURCES, view(type_, {})) == []


def test_an_unreadable_type_acknowledged_with_a_reason_passes_and_one_without_a_reason_does_not():
    stack = view("aws:cloudformation/stack:Stack", {"templateBody": "Resources: {}"})
    reasoned = [{"type": "aws:cloudformation/*", "reason": "vendor template reviewed in SEC-42 each release"}]
    assert findings(NO_UNREADABLE_RESOURCES, stack, acknowledgedTypes=reasoned) == []
    assert len(findings(NO_UNREADABLE_RESOURCES, stack, acknowledgedTypes=[{"type": "*", "reason": "ok"}])) == 1
