"""The bootstrap program (bootstrap/), run in process under the mock runtime with its own stack file:
who may assume the roles, what they may do, the state bucket, and the pack's verdict on it."""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import runpy
import sys
from pathlib import Path

import botocore.session
import pytest
import yaml
from botocore.validate import ParamValidator
from policy_sentry.querying.actions import get_action_data

from devkit.mocks import run_program
from policies.exceptions import parse_exceptions
from policies.iam_documents import DOCUMENT_LOCATIONS, judge_policy_document
from tests.ecs_api import model_violations

ROOT = Path(__file__).resolve().parent.parent
BOOTSTRAP = ROOT / "bootstrap"
PROJECT = "microservices-foundation-bootstrap"
STACK = "acme"
PROVIDER_ARN = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"


def _load_module():
    sys.path.insert(0, str(BOOTSTRAP))  # as `pulumi up` runs it: the program's folder on sys.path
    try:
        spec = importlib.util.spec_from_file_location("delivery_access", BOOTSTRAP / "delivery_access.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["delivery_access"] = module
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BOOTSTRAP))


access = _load_module()


def _stack_config(**github_overrides) -> dict[str, str]:
    config = yaml.safe_load((BOOTSTRAP / f"Pulumi.{STACK}.yaml").read_text())["config"]
    config[f"{PROJECT}:github"] = {**config[f"{PROJECT}:github"], **github_overrides}
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()}


@pytest.fixture(scope="module")
def bootstrap():
    def program():
        runpy.run_path(str(BOOTSTRAP / "__main__.py"))
    recorder, _ = run_program(program, project=PROJECT, stack=STACK, region="eu-north-1", config=_stack_config())
    return recorder


def _document(resource, prop: str) -> dict:
    value = resource.inputs[prop]
    return json.loads(value) if isinstance(value, str) else value


def _named(recorder, typ: str, name: str):
    return recorder.one(typ, name)


def test_the_registered_oidc_provider_has_github_url_and_sts_audience(bootstrap):
    provider = bootstrap.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider").inputs
    assert provider["url"] == "https://token.actions.githubusercontent.com"
    assert provider["clientIdLists"] == ["sts.amazonaws.com"]
    assert "thumbprintLists" not in provider  # IAM trusts GitHub through its own CA library


@pytest.mark.parametrize("role, subject", [
    ("github-deploy-staging", "repo:acme/microservices-foundation:ref:refs/heads/main"),
    ("github-deploy-prod", "repo:acme/microservices-foundation:environment:production"),
    ("github-preview", "repo:acme/microservices-foundation:pull_request"),
])
def test_each_role_trusts_exactly_one_subject_of_this_repository_for_sts(bootstrap, role, subject):
    trust = _document(bootstrap.one("aws:iam/role:Role", role), "assumeRolePolicy")
    provider_arn = bootstrap.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider").outputs["arn"]
    [statement] = trust["Statement"]
    assert statement["Principal"] == {"Federated": provider_arn}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    # StringEquals, not StringLike: no wildcard can widen the subject to other branches or repositories.
    assert statement["Condition"] == {"StringEquals": {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": subject}}


def test_immutable_ids_go_into_the_subject_when_the_repository_uses_them():
    settings = access.BootstrapSettings(account_id="123456789012", repository="acme/microservices-foundation",
                                        state_bucket_name="acme-state", backend_region="eu-north-1",
                                        owner_id=123456, repository_id=456789)
    assert settings.oidc_subject("ref:refs/heads/main") == "repo:acme@123456/microservices-foundation@456789:ref:refs/heads/main"


@pytest.mark.parametrize("bad, message", [
    (dict(repository="microservices-foundation"), "github.repository must be 'owner/name'"),
    (dict(owner_id=1), "set together"),
    (dict(backend_region="eu-central-1"), "one of the platform's regions"),
    (dict(state_bucket_name="Acme_State"), "stateBucketName"),
    (dict(account_id="12345"), "12-digit"),
])
def test_bad_settings_are_refused_naming_the_key(bad, message):
    values = dict(account_id="123456789012", repository="acme/microservices-foundation",
                  state_bucket_name="acme-state", backend_region="eu-north-1")
    with pytest.raises(ValueError, match=message):
        access.BootstrapSettings(**{**values, **bad})


def test_the_workflows_oidc_subjects_are_the_ones_the_roles_trust():
    """deploy-staging runs on push to main outside any environment; deploy-production in `production`."""
    workflows = ROOT / ".github" / "workflows"
    staging = yaml.safe_load((workflows / "deploy-staging.yml").read_text())
    production = yaml.safe_load((workflows / "deploy-production.yml").read_text())
    contexts = {f.environment: f.oidc_context for f in access.FAMILIES}
    assert staging[True]["push"]["branches"] == ["main"] and contexts["staging"] == "ref:refs/heads/main"
    assert {j["environment"] for j in production["jobs"].values()} == {"production"}
    assert contexts["prod"] == "environment:production"
    stacks = {s for f in access.FAMILIES for s in f.stacks}
    assert stacks == {p.name[len("Pulumi."):-len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml")}


def _allow_actions(document: dict) -> list[str]:
    return [a for s in document["Statement"] if s["Effect"] == "Allow"
            for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])]


def test_deploy_policies_spell_out_every_action_and_each_exists_in_iam(bootstrap):
    policies = [p for p in bootstrap.of_type("aws:iam/policy:Policy") if not p.name.endswith("-boundary")]
    assert len(policies) == 2 * len(access.deploy_policy_groups())
    for policy in policies:
        document = _document(policy, "policy")
        assert len(json.dumps(document, separators=(",", ":"))) <= access.MANAGED_POLICY_MAX_CHARS
        for action in _allow_actions(document):
            assert "*" not in action and "?" not in action, f"{policy.name}: {action}"
            service, name = action.split(":")
            assert get_action_data(service, name), f"{policy.name}: {action} is not an IAM action"
    granted = {a for p in policies for a in _allow_actions(_document(p, "policy"))}
    assert granted == {f"{s}:{a}" for s, actions in access.DEPLOY_ACTIONS.items() for a in actions}


def test_deletes_and_retagging_are_denied_outside_the_roles_environment_and_each_action_can_be_judged_by_tag(bootstrap):
    for family in ("staging", "prod"):
        denies = [s for g in access.deploy_policy_groups()
                  for s in _document(bootstrap.one("aws:iam/policy:Policy", f"github-deploy-{family}-{g}"),
                                     "policy")["Statement"] if s["Effect"] == "Deny"]
        deletes = [s for s in denies if s["Sid"].startswith("DeleteOnly")]
        assert {json.dumps(s["Condition"]) for s in deletes} == {
            json.dumps({"StringNotEquals": {"aws:ResourceTag/environment": family}}),
            json.dumps({"StringNotEquals": {"aws:ResourceTag/managed-by": "pulumi"}})}
        assert sorted({a for s in deletes for a in s["Action"]}) == sorted(access.TAG_BOUNDED_DELETES)
        # Retagging a resource of another environment or owner (to delete it next) is denied too;
        # only where the tag exists, so that tagging a resource while creating it still works.
        retags = [s for s in denies if s["Sid"].startswith("NoRetagging")]
        assert sorted({a for s in retags for a in s["Action"]}) == sorted(access.TAG_MUTATIONS)
        expected = [
            {"Null": {"aws:ResourceTag/environment": "false"},
             "StringNotEquals": {"aws:ResourceTag/environment": family}},
            {"Null": {"aws:ResourceTag/managed-by": "false"},
             "StringNotEquals": {"aws:ResourceTag/managed-by": "pulumi"}}]
        assert {json.dumps(s["Condition"], sort_keys=True) for s in retags} == {
            json.dumps(c, sort_keys=True) for c in expected}
    for action in (*access.TAG_BOUNDED_DELETES, *access.TAG_MUTATIONS):
        service, name = action.split(":")
        typed = [e for e in get_action_data(service, name)[service] if e["resource_arn_format"] != "*"]
        assert typed and all("aws:ResourceTag/${TagKey}" in e["condition_keys"] for e in typed), action


def test_role_changes_require_the_platform_boundary_and_roles_go_only_to_the_platform_services(bootstrap):
    identity = _document(bootstrap.one("aws:iam/policy:Policy", "github-deploy-prod-identity"), "policy")
    statements = {s["Sid"]: s for s in identity["Statement"]}
    bounded = statements["RolesCarryingThePlatformBoundary"]
    assert sorted(bounded["Action"]) == sorted(access.BOUNDED_ROLE_ACTIONS)
    assert bounded["Condition"]["ArnLike"] == {"iam:PermissionsBoundary": [
        "arn:aws:iam::123456789012:policy/prod-eu-central-1-boundary-*",
        "arn:aws:iam::123456789012:policy/prod-eu-west-1-boundary-*"]}
    assert statements["PassRolesToTheServicesThatRunThePlatform"]["Condition"]["StringEquals"][
        "iam:PassedToService"] == ["ecs-tasks.amazonaws.com", "ecs.amazonaws.com", "ecr.amazonaws.com",
                                   "pipes.amazonaws.com", "lambda.amazonaws.com", "arc-region-switch.amazonaws.com"]
    for action in access.BOUNDED_ROLE_ACTIONS:
        service, name = action.split(":")
        assert all("iam:PermissionsBoundary" in e["condition_keys"] for e in get_action_data(service, name)[service])
    every_allow = [s for s in identity["Statement"] if s["Effect"] == "Allow"]
    assert all(s["Condition"]["StringEquals"]["aws:RequestedRegion"] == [
        "eu-central-1", "eu-north-1", "eu-west-1", "us-east-1"] for s in every_allow)


def test_the_platform_boundary_pattern_matches_the_boundary_the_stacks_register(prod, prod_standby):
    # The deploy roles' IAM conditions name the platform boundary by ARN pattern; the stacks must register
    # boundaries that pattern covers.
    from fnmatch import fnmatchcase

    from bootstrap.roles.catalog import FAMILIES
    from bootstrap.roles.documents import platform_boundary_arns

    patterns = platform_boundary_arns("123456789012", next(f for f in FAMILIES if f.environment == "prod"))
    policies = {r.outputs["arn"]: r for p in (prod, prod_standby) for r in p.recorder.of_type("aws:iam/policy:Policy")}
    used = {r.inputs["permissionsBoundary"] for p in (prod, prod_standby) for r in p.recorder.of_type("aws:iam/role:Role")}
    assert used <= set(policies), "every role's boundary is a policy the stacks register"
    assert all(any(fnmatchcase(arn, pattern) for pattern in patterns) for arn in used), sorted(used)
    assert {policies[arn].name for arn in used} >= {"prod-eu-central-1-boundary", "prod-eu-west-1-boundary"}


# The pulumi-aws module of every resource type the stacks register, mapped to its IAM service prefix.
IAM_PREFIX = {"acm": "acm", "acmpca": "acm-pca", "appautoscaling": "application-autoscaling",
              "budgets": "budgets", "cloudwatch": "cloudwatch", "ec2": "ec2", "vpc": "ec2", "ecr": "ecr",
              "ecs": "ecs", "iam": "iam", "kms": "kms", "lb": "elasticloadbalancing", "route53": "route53",
              "s3": "s3", "secretsmanager": "secretsmanager", "servicediscovery": "servicediscovery",
              "ssm": "ssm", "sns": "sns", "sqs": "sqs", "dynamodb": "dynamodb", "rds": "rds",
              "cloudwatchevents": "events", "pipes": "pipes", "cloudtrail": "cloudtrail",
              "accessanalyzer": "access-analyzer", "xray": "xray", "lambda": "lambda",
              "costexplorer": "ce", "organizations": "organizations", "arcregionswitch": "arc-region-switch"}


def test_every_aws_service_the_stacks_register_resources_in_is_in_the_deploy_catalog(staging, prod, prod_standby):
    modules = {r.type.split(":")[1].split("/")[0]
               for p in (staging, prod, prod_standby) for r in p.recorder.resources if r.type.startswith("aws:")}
    unknown = modules - set(IAM_PREFIX)
    assert not unknown, f"map these pulumi-aws modules to IAM prefixes and add their actions: {unknown}"
    missing = {IAM_PREFIX[m] for m in modules} - set(access.DEPLOY_ACTIONS)
    assert not missing, f"the deploy roles cannot manage {sorted(missing)}: add their actions to DEPLOY_ACTIONS"
    # cloudwatch log groups live in the `logs` IAM service.
    assert "logs" in access.DEPLOY_ACTIONS


def test_state_bucket_is_versioned_kms_encrypted_tls_only_and_never_public(bootstrap):
    bucket = bootstrap.one("aws:s3/bucket:Bucket", "state")
    assert bucket.inputs["bucket"] == "acme-microservices-foundation-pulumi-state"
    key = bootstrap.one("aws:kms/key:Key", "state")
    assert key.inputs["enableKeyRotation"] is True
    versioning = bootstrap.one("aws:s3/bucketVersioning:BucketVersioning").inputs
    assert versioning["versioningConfiguration"] == {"status": "Enabled"}
    [rule] = bootstrap.one("aws:s3/bucketServerSideEncryptionConfiguration:"
                           "BucketServerSideEncryptionConfiguration").inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms",
                                                          "kmsMasterKeyId": key.outputs["arn"]}
    block = bootstrap.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert all(block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                           "restrictPublicBuckets"))
    ownership = bootstrap.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs
    assert ownership["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    [deny] = _document(bootstrap.one("aws:s3/bucketPolicy:BucketPolicy"), "policy")["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Resource"] == ["arn:aws:s3:::acme-microservices-foundation-pulumi-state",
                                "arn:aws:s3:::acme-microservices-foundation-pulumi-state/*"]


def test_deploy_boundaries_protect_the_bootstrap_and_the_preview_role_only_reads_state(bootstrap):
    boundary = _document(bootstrap.one("aws:iam/policy:Policy", "github-deploy-staging-boundary"), "policy")
    denies = {s["Sid"]: s for s in boundary["Statement"] if s["Effect"] == "Deny"}
    assert "arn:aws:iam::123456789012:role/github-*" in denies["NeverTouchTheBootstrapIdentities"]["Resource"]
    assert "s3:DeleteBucket" in denies["NeverWeakenTheStateBucket"]["Action"]
    assert "kms:ScheduleKeyDeletion" in denies["NeverDisableTheStateKey"]["Action"]
    assert denies["NeverDropABoundary"]["Action"] == ["iam:DeleteRolePermissionsBoundary"]
    preview = _document(bootstrap.one("aws:iam/rolePolicy:RolePolicy", "github-preview-state"), "policy")
    writes = [s for s in preview["Statement"] if set(s["Action"]) & {"s3:PutObject", "s3:DeleteObject"}]
    assert [s["Resource"] for s in writes] == ["arn:aws:s3:::acme-microservices-foundation-pulumi-state/.pulumi/locks/*"]
    assert bootstrap.one("aws:iam/role:Role", "github-preview").inputs["permissionsBoundary"]


def _pack_findings(recorder) -> dict[str, list[str]]:
    """`no-wildcard-iam`'s judge over every IAM document the program registers, by resource name."""
    findings: dict[str, list[str]] = {}
    for resource in recorder.resources:
        for typ, path, kind in DOCUMENT_LOCATIONS:
            if resource.type != typ or len(path) != 1 or path[0] not in resource.inputs:
                continue
            for finding in judge_policy_document(resource.inputs[path[0]], kind):
                findings.setdefault(resource.name, []).append(finding.message)
    return findings


def test_the_packs_wildcard_findings_are_exactly_the_acknowledged_deploy_role_breadth(bootstrap):
    config = json.loads((BOOTSTRAP / "policy-config.json").read_text())
    exceptions = parse_exceptions("no-wildcard-iam", config["no-wildcard-iam"]["exceptions"])
    assert not exceptions.malformed
    findings = _pack_findings(bootstrap)
    deploy_documents = {f"github-deploy-{f.environment}-{g}" for f in access.FAMILIES
                        for g in [*access.deploy_policy_groups(), "boundary"]}
    assert set(findings) == deploy_documents
    for resource in bootstrap.resources:
        acknowledged = exceptions.match(resource.urn, resource.name)
        assert (acknowledged is not None) == (resource.name in deploy_documents), resource.name


def test_a_service_repository_may_push_only_its_own_images_and_only_from_main(bootstrap):
    role = bootstrap.one("aws:iam/role:Role", "github-image-auth")
    [trust] = _document(role, "assumeRolePolicy")["Statement"]
    assert trust["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"] == \
        "repo:acme/auth:ref:refs/heads/main"
    assert role.inputs["permissionsBoundary"]
    statements = {s["Sid"]: s for s in _document(
        bootstrap.one("aws:iam/rolePolicy:RolePolicy", "github-image-auth-push"), "policy")["Statement"]}
    assert statements["LogInToTheRegistry"] == {"Sid": "LogInToTheRegistry", "Effect": "Allow",
                                                "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"}
    assert statements["PushThisServicesImages"]["Resource"] == [
        "arn:aws:ecr:eu-central-1:123456789012:repository/staging/auth",
        "arn:aws:ecr:eu-central-1:123456789012:repository/prod/auth"]
    assert "ecr:PutImage" in statements["PushThisServicesImages"]["Action"]
    # The template's image workflow pushes to exactly these repositories with this role.
    template = yaml.safe_load((ROOT / "templates" / "service" / ".github" / "workflows" / "image.yml").read_text())
    service = template["env"]["SERVICE"]
    assert template["env"]["ECR_REPOSITORIES"].split() == [f"{e}/{service}" for e in access.IMAGE_ENVIRONMENTS]
    assert template["env"]["AWS_REGION"] == access.IMAGE_REGION
    credentials = next(s for s in template["jobs"]["push"]["steps"]
                       if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@"))
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_IMAGE_PUSH_ROLE_ARN }}"


def test_a_bad_stack_file_stops_the_program_with_one_message_naming_the_file_and_key():
    def program():
        runpy.run_path(str(BOOTSTRAP / "__main__.py"))
    with pytest.raises(Exception, match=r"bootstrap/Pulumi\.acme\.yaml\): github\.repository must be 'owner/name'"):
        run_program(program, project=PROJECT, stack=STACK, region="eu-north-1",
                    config=_stack_config(repository="microservices-foundation"))


@functools.cache
def _service_model(service: str):
    return _BOTOCORE.get_service_model(service)


_BOTOCORE = botocore.session.get_session()


def _api_problems(service: str, operation: str, request: dict) -> list[str]:
    """What the AWS API model rejects in a request: types, required members, bounds, enums, patterns."""
    shape = _service_model(service).operation_model(operation).input_shape
    report = ParamValidator().validate(request, shape)
    problems = [report.generate_report()] if report.has_errors() else []
    problems += model_violations(request, shape)
    for key, value in request.items():
        pattern = shape.members[key].metadata.get("pattern")
        if isinstance(value, str) and pattern and not re.fullmatch(pattern, value):
            problems.append(f"{operation}.{key}={value[:60]!r} does not match {pattern}")
    return problems


def test_every_role_policy_key_and_alias_is_a_valid_aws_api_request(bootstrap):
    def tags(resource):
        return [{"Key": k, "Value": v} for k, v in resource.inputs.get("tags", {}).items()]

    problems = []
    for role in bootstrap.of_type("aws:iam/role:Role"):
        problems += _api_problems("iam", "CreateRole", {
            "RoleName": role.inputs["name"], "Description": role.inputs["description"],
            "AssumeRolePolicyDocument": role.inputs["assumeRolePolicy"],
            "MaxSessionDuration": int(role.inputs["maxSessionDuration"]),
            "PermissionsBoundary": role.inputs["permissionsBoundary"], "Tags": tags(role)})
    for policy in bootstrap.of_type("aws:iam/policy:Policy"):
        problems += _api_problems("iam", "CreatePolicy", {
            "PolicyName": policy.inputs["name"], "PolicyDocument": policy.inputs["policy"],
            **({"Description": policy.inputs["description"]} if "description" in policy.inputs else {}),
            "Tags": tags(policy)})
    key = bootstrap.one("aws:kms/key:Key").inputs
    problems += _api_problems("kms", "CreateKey", {"Description": key["description"], "Policy": key["policy"]})
    problems += _api_problems("kms", "ScheduleKeyDeletion", {
        "KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "PendingWindowInDays": int(key["deletionWindowInDays"])})
    alias = bootstrap.one("aws:kms/alias:Alias").inputs
    problems += _api_problems("kms", "CreateAlias", {"AliasName": alias["name"], "TargetKeyId": "1234abcd"})
    problems += _api_problems("iam", "CreateOpenIDConnectProvider", {
        "Url": "https://token.actions.githubusercontent.com", "ClientIDList": ["sts.amazonaws.com"]})
    assert not problems, "\n".join(problems)
