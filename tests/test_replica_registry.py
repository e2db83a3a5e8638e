"""The standby's repository creation template: the settings ECR gives the repositories replication creates.

Read from the four stacks' offline previews, plus the role's documents judged as the policy pack judges them.
"""

from __future__ import annotations

import json

import pytest

from components.regional_platform import platform_iam
from components.regional_platform.registries import lifecycle_policy
from devkit.harness import analyze_stack
from policies.iam_documents import judge_policy_document

TEMPLATE = "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
# AWS's documented permissions for a repository creation template's custom role
# (https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-creation-templates-custom.html).
DOCUMENTED_ACTIONS = {"ecr:CreateRepository", "ecr:ReplicateImage", "ecr:TagResource",
                      "kms:CreateGrant", "kms:RetireGrant", "kms:DescribeKey"}


def platform_key(preview) -> str:
    return f"{preview.settings.environment}-{preview.settings.region}-key"


@pytest.fixture(params=["staging_standby", "prod_standby"])
def standby(request):
    return request.getfixturevalue(request.param)


def replica_template(preview):
    # The standby also has the pull-through cache template (test_regional_platform.py); this is the other one.
    (template,) = [t for t in preview.recorder.of_type(TEMPLATE) if t.inputs["appliedFors"] == ["REPLICATION"]]
    return template


def template_role(preview):
    template = replica_template(preview)
    return next(r for r in preview.recorder.of_type(ROLE) if r.outputs["arn"] == template.inputs["customRoleArn"])


def role_policy(preview, role):
    (policy,) = [p for p in preview.recorder.of_type(ROLE_POLICY) if p.inputs["role"] == role.outputs["id"]]
    return policy


def test_standby_template_gives_replicas_the_primarys_repository_settings(standby):
    template = replica_template(standby).inputs
    settings = standby.settings
    assert template["prefix"] == settings.environment
    assert template["appliedFors"] == ["REPLICATION"]
    assert template["imageTagMutability"] == "IMMUTABLE"
    key = standby.recorder.one("aws:kms/key:Key", platform_key(standby))
    assert template["encryptionConfigurations"] == [{"encryptionType": "KMS", "kmsKey": key.outputs["arn"]}]
    assert json.loads(template["lifecyclePolicy"]) == lifecycle_policy(7, 30)
    provider = standby.recorder.one("pulumi:providers:aws")
    assert template["resourceTags"] == json.loads(provider.inputs["defaultTags"])["tags"] == settings.default_tags
    assert template["resourceTags"]["region-role"] == "standby"


def test_the_template_lives_in_the_standby_region_under_its_own_provider(standby):
    template = replica_template(standby)
    provider = standby.recorder.one("pulumi:providers:aws")
    assert provider.inputs["region"] == "eu-west-1"
    assert template.provider_region == "eu-west-1" and template.provider.startswith(provider.urn)
    assert "region" not in template.inputs  # no per-resource region override of the provider's


def test_the_prefix_covers_this_environments_repositories_and_no_others(staging_standby, prod_standby):
    # ECR treats a template prefix `p` as `p/` (API_CreateRepositoryCreationTemplate).
    for preview, other in ((staging_standby, prod_standby), (prod_standby, staging_standby)):
        prefix = replica_template(preview).inputs["prefix"] + "/"
        assert all(preview.settings.repository_name(s.name).startswith(prefix) for s in preview.settings.services)
        assert not any(other.settings.repository_name(s.name).startswith(prefix) for s in other.settings.services)


def test_the_template_role_is_assumed_by_ecr_carries_the_boundary_and_is_ready_before_the_template(standby):
    template = replica_template(standby)
    role = template_role(standby)
    assert json.loads(role.inputs["assumeRolePolicy"]) == {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ecr.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    boundary = standby.recorder.one("aws:iam/policy:Policy", f"{standby.settings.environment}-eu-west-1-boundary")
    assert role.inputs["permissionsBoundary"] == boundary.outputs["arn"]
    assert role_policy(standby, role).urn in template.dependencies


def test_the_template_role_may_do_what_aws_documents_on_this_environments_replicas_and_key_only(standby):
    role = template_role(standby)
    document = json.loads(role_policy(standby, role).inputs["policy"])
    statements = document["Statement"]
    assert {a for s in statements for a in s["Action"]} == DOCUMENTED_ACTIONS
    region, environment = standby.settings.region, standby.settings.environment
    key = standby.recorder.one("aws:kms/key:Key", platform_key(standby)).outputs["arn"]
    resources = {s["Sid"]: s["Resource"] for s in statements}
    assert resources == {"CreateReplicaRepositories": f"arn:aws:ecr:{region}:123456789012:repository/{environment}/*",
                         "EncryptReplicaRepositoriesWithPlatformKey": key}


def test_the_template_roles_documents_pass_the_wildcard_judge(standby):
    role = template_role(standby)
    assert judge_policy_document(role.inputs["assumeRolePolicy"], "trust") == []
    assert judge_policy_document(role_policy(standby, role).inputs["policy"], "identity") == []


def test_the_judge_would_refuse_the_documented_policy_as_aws_prints_it():
    # AWS's example grants all six actions on Resource "*"; the pack refuses that because each of them
    # has a resource type, which is why the role's policy narrows the resources.
    documented = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["ecr:CreateRepository", "ecr:ReplicateImage", "ecr:TagResource"],
         "Resource": "*"},
        {"Effect": "Allow", "Action": ["kms:CreateGrant", "kms:RetireGrant", "kms:DescribeKey"], "Resource": "*"}]}
    assert len(judge_policy_document(documented, "identity")) == 2
    narrowed = platform_iam.replica_repository_role_policy(
        "123456789012", "eu-west-1", "prod", "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    assert judge_policy_document(narrowed, "identity") == []


def test_primaries_register_no_replication_template_and_no_template_role(staging, prod):
    for preview in (staging, prod):
        cache = [["PULL_THROUGH_CACHE"]] if preview.settings.config.tracing.enabled else []
        assert [t.inputs["appliedFors"] for t in preview.recorder.of_type(TEMPLATE)] == cache
        assert not [r for r in preview.recorder.of_type(ROLE)
                    if "ecr.amazonaws.com" in r.inputs["assumeRolePolicy"]]


def test_every_standby_role_outside_the_region_switch_carries_the_platform_boundary(standby):
    boundary = standby.recorder.one("aws:iam/policy:Policy", f"{standby.settings.environment}-eu-west-1-boundary")
    roles = [r for r in standby.recorder.of_type(ROLE) if ":failover:" not in (r.parent or "")]
    assert roles and all(r.inputs["permissionsBoundary"] == boundary.outputs["arn"] for r in roles)


def test_the_standby_stacks_have_no_policy_verdicts(standby):
    diagnostics = analyze_stack(standby.recorder.to_json(), stack=standby.stack)
    verdicts = [(d.policy_name, d.enforcement_level) for d in diagnostics]
    # An approved budget above the seeds' 200 EUR ceiling is reported as advisory (docs/cost-model.md).
    approval = standby.settings.config.budget.approval
    assert verdicts == ([("stack-budget-approved-overrun", "advisory")]
                        if approval is not None and approval.amount_eur > 200 else [])
