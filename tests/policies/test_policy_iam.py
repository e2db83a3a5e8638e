"""no-wildcard-iam, no-admin-managed-policies, iam-role-permissions-boundary."""

from __future__ import annotations

import json

import pytest
from views import UNKNOWN, findings, messages, not_judged, view

from policies.framework import NotJudged
from policies.iam_documents import NO_WILDCARD_IAM, judge_policy_document
from policies.iam_managed_policies import NO_ADMIN_MANAGED_POLICIES
from policies.iam_permissions_boundary import IAM_ROLE_PERMISSIONS_BOUNDARY


def doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(actions, resources="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": actions, "Resource": resources, **extra}


# --- the pure judge --------------------------------------------------------------------------------

@pytest.mark.parametrize("action, words", [
    ("*", "every action of every service"),
    ("s3:*", "every action of the 's3' service"),
    ("s3:Get*", "partial wildcard"),
    ("ecr:Batch?etImage", "partial wildcard"),
])
def test_judge_rejects_wildcard_actions(action, words):
    findings = judge_policy_document(doc(allow(action, "arn:aws:s3:::bucket/*")))
    assert len(findings) == 1 and words in findings[0].message and action in findings[0].message


def test_judge_rejects_not_action_and_not_resource_with_allow():
    findings = judge_policy_document(doc(
        {"Effect": "Allow", "NotAction": "iam:CreateUser", "Resource": "arn:aws:s3:::b"},
        {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::b/secret"}))
    messages = " ".join(f.message for f in findings)
    assert "NotAction" in messages and "NotResource" in messages and len(findings) == 2


def test_judge_ignores_deny_statements_with_wildcards():
    assert judge_policy_document(doc({"Effect": "Deny", "Action": "*", "Resource": "*",
                                      "Condition": {"Bool": {"aws:SecureTransport": "false"}}})) == []


def test_judge_allows_star_resource_only_for_actions_without_resource_level_permissions():
    assert judge_policy_document(doc(allow(["ecr:GetAuthorizationToken", "xray:PutTraceSegments"]))) == []
    findings = judge_policy_document(doc(allow(["ecr:GetAuthorizationToken", "logs:PutLogEvents"])))
    assert len(findings) == 1
    assert "logs:PutLogEvents (log-stream)" in findings[0].message
    assert "ecr:GetAuthorizationToken" not in findings[0].message.split("actions that support")[1].split(".")[0]


def test_judge_accepts_scoped_resources_and_dict_documents():
    document = {"Version": "2012-10-17", "Statement": allow(
        ["logs:CreateLogStream", "logs:PutLogEvents"], "arn:aws:logs:eu-central-1:1:log-group:/svc:*")}
    assert judge_policy_document(document) == []


def test_judge_reports_actions_unknown_to_policy_sentry_on_star():
    findings = judge_policy_document(doc(allow("ecr:GetAuthorisationTokens")))
    assert len(findings) == 1 and "does not know" in findings[0].message


def test_judge_key_policy_star_resource_means_this_key():
    key_policy = doc({"Sid": "Logs", "Effect": "Allow", "Principal": {"Service": "logs.eu-central-1.amazonaws.com"},
                      "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"][:2], "Resource": "*"})
    assert judge_policy_document(key_policy, "key") == []
    assert judge_policy_document(key_policy, "identity") != []


def test_judge_key_policy_still_rejects_kms_star():
    findings = judge_policy_document(doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"},
                                          "Action": "kms:*", "Resource": "*"}), "key")
    assert len(findings) == 1 and "'kms' service" in findings[0].message


def test_judge_rejects_public_principal_in_resource_and_trust_policies_without_condition():
    public = {"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*"}
    assert "anyone" in judge_policy_document(doc(public), "resource")[0].message
    conditioned = dict(public, Condition={"ArnEquals": {"aws:SourceArn": "arn:aws:sns:eu-central-1:1:t"}})
    assert judge_policy_document(doc(conditioned), "resource") == []
    trust = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
    assert "anyone" in judge_policy_document(doc(trust), "trust")[0].message


def test_judge_accepts_a_service_trust_policy():
    trust = {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
    assert judge_policy_document(doc(trust), "trust") == []


def test_judge_does_not_judge_unknown_documents():
    with pytest.raises(NotJudged):
        judge_policy_document(UNKNOWN)


@pytest.mark.parametrize("statement, unknown_part", [
    (allow("logs:PutLogEvents", [UNKNOWN]), "Resource"),
    (allow([UNKNOWN], "arn:aws:s3:::b"), "Action"),
    ({"Effect": UNKNOWN, "Action": "s3:*", "Resource": "*"}, "Effect"),
    ({"Effect": "Allow", "Principal": UNKNOWN, "Action": "sqs:SendMessage"}, "Principal"),
])
def test_judge_defers_unknown_parts_of_a_known_document_instead_of_passing_them(statement, unknown_part):
    [finding] = judge_policy_document({"Statement": [statement]}, "resource")
    assert finding.deferred and f"{unknown_part} unknown during preview" in finding.message


def test_judge_reports_unparseable_documents():
    assert "cannot be parsed" in judge_policy_document("{not json")[0].message


# --- the policies ----------------------------------------------------------------------------------

def test_wildcard_in_a_managed_policy_is_reported_on_the_document_and_its_kind():
    policy = view("aws:iam/policy:Policy", {"policy": doc(allow("s3:*", "arn:aws:s3:::b"))}, name="task-policy")
    [message] = messages(NO_WILDCARD_IAM, policy)
    assert message.startswith("policy (identity policy): ") and "'s3' service" in message


def test_compliant_managed_policy_passes():
    policy = view("aws:iam/policy:Policy", {"policy": doc(allow("s3:GetObject", "arn:aws:s3:::b/*"))})
    assert findings(NO_WILDCARD_IAM, policy) == []


def test_role_inline_policies_and_trust_policy_are_judged():
    role = view("aws:iam/role:Role", {
        "permissionsBoundary": "arn:aws:iam::1:policy/boundary",
        "assumeRolePolicy": doc({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}),
        "inlinePolicies": [{"name": "ok", "policy": doc(allow("ecr:GetAuthorizationToken"))},
                           {"name": "bad", "policy": doc(allow("ssm:Get*", "arn:aws:ssm:::parameter/x"))}]})
    details = " ".join(messages(NO_WILDCARD_IAM, role))
    assert "inlinePolicies[1].policy" in details and "assumeRolePolicy (trust policy)" in details
    assert "inlinePolicies[0]" not in details


@pytest.mark.parametrize("type_", ["aws:ecr/repositoryPolicy:RepositoryPolicy", "aws:s3/bucketPolicy:BucketPolicy",
                                   "aws:sqs/queuePolicy:QueuePolicy", "aws:sns/topicPolicy:TopicPolicy",
                                   "aws:secretsmanager/secretPolicy:SecretPolicy", "aws:kms/keyPolicy:KeyPolicy"])
def test_resource_policies_are_judged(type_):
    bad = doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "*"})
    good = doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "sqs:SendMessage"})
    assert messages(NO_WILDCARD_IAM, view(type_, {"policy": bad}))
    assert findings(NO_WILDCARD_IAM, view(type_, {"policy": good})) == []


def test_compliant_key_policy_passes():
    key = view("aws:kms/key:Key", {"enableKeyRotation": True, "policy": doc(
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:role/admin"},
         "Action": ["kms:DescribeKey", "kms:EnableKeyRotation"], "Resource": "*"})})
    assert findings(NO_WILDCARD_IAM, key) == []


def test_unknown_document_is_deferred_to_update():
    policy = view("aws:iam/policy:Policy", {"policy": UNKNOWN})
    assert "unknown during preview" in not_judged(NO_WILDCARD_IAM, policy)


def test_a_known_violation_is_reported_even_when_another_document_is_unknown():
    role = view("aws:iam/role:Role", {"assumeRolePolicy": UNKNOWN,
                                      "inlinePolicies": [{"name": "bad", "policy": doc(allow("s3:*", "arn:aws:s3:::b"))}]})
    assert len(findings(NO_WILDCARD_IAM, role)) == 1


@pytest.mark.parametrize("arn", ["arn:aws:iam::aws:policy/AdministratorAccess",
                                 "arn:aws:iam::aws:policy/AmazonS3FullAccess",
                                 "arn:aws:iam::aws:policy/PowerUserAccess"])
def test_admin_or_full_access_attachment_is_reported(arn):
    attachment = view("aws:iam/rolePolicyAttachment:RolePolicyAttachment", {"role": "task", "policyArn": arn})
    [message] = messages(NO_ADMIN_MANAGED_POLICIES, attachment)
    assert arn in message


def test_role_managed_policy_arns_are_checked_and_unknown_arns_deferred():
    role = view("aws:iam/role:Role", {
        "permissionsBoundary": "arn:aws:iam::1:policy/b",
        "managedPolicyArns": [UNKNOWN, "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
                              "arn:aws:iam::aws:policy/IAMFullAccess"]})
    [message] = messages(NO_ADMIN_MANAGED_POLICIES, role)
    assert "IAMFullAccess" in message
    role.props["managedPolicyArns"] = [UNKNOWN]
    assert "unknown during preview" in not_judged(NO_ADMIN_MANAGED_POLICIES, role)


@pytest.mark.parametrize("arn", ["arn:aws:iam::aws:policy/job-function/SystemAdministrator",
                                 "arn:aws:iam::aws:policy/job-function/NetworkAdministrator",
                                 "arn:aws:iam::aws:policy/AWSCodeBuildAdminAccess",
                                 "arn:aws:iam::aws:policy/AWSLambda_FullAccess",
                                 "arn:aws:iam::aws:policy/AdministratorAccess-Amplify",
                                 "arn:aws:iam::aws:policy/administratoraccess",
                                 "arn:aws-us-gov:iam::aws:policy/AdministratorAccess "])
def test_admin_equivalent_managed_policies_beyond_administrator_access_are_reported(arn):
    attachment = view("aws:iam/rolePolicyAttachment:RolePolicyAttachment", {"role": "task", "policyArn": arn})
    assert len(findings(NO_ADMIN_MANAGED_POLICIES, attachment)) == 1


def test_identity_center_permission_set_attachments_are_judged():
    admin = view("aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment", {
        "instanceArn": "arn:aws:sso:::instance/x", "permissionSetArn": "arn:ps",
        "managedPolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"})
    assert len(findings(NO_ADMIN_MANAGED_POLICIES, admin)) == 1
    admin.props["managedPolicyArn"] = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    assert findings(NO_ADMIN_MANAGED_POLICIES, admin) == []


def test_scoped_managed_policy_attachment_passes():
    attachment = view("aws:iam/rolePolicyAttachment:RolePolicyAttachment", {
        "role": "r", "policyArn": "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"})
    assert findings(NO_ADMIN_MANAGED_POLICIES, attachment) == []


def test_role_without_permissions_boundary_is_reported():
    role = view("aws:iam/role:Role", {"assumeRolePolicy": doc(
        {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"})})
    [message] = messages(IAM_ROLE_PERMISSIONS_BOUNDARY, role)
    assert "permissions_boundary" in message


def test_role_with_a_scoped_boundary_passes():
    role = view("aws:iam/role:Role", {"permissionsBoundary": "arn:aws:iam::1:policy/boundary"})
    assert findings(IAM_ROLE_PERMISSIONS_BOUNDARY, role) == []


def test_role_with_an_unknown_boundary_has_one_and_the_admin_question_is_deferred():
    role = view("aws:iam/role:Role", {"permissionsBoundary": UNKNOWN})
    assert "unknown during preview" in not_judged(IAM_ROLE_PERMISSIONS_BOUNDARY, role)


@pytest.mark.parametrize("type_", ["aws:iam/role:Role", "aws:iam/user:User"])
@pytest.mark.parametrize("boundary", ["arn:aws:iam::aws:policy/AdministratorAccess",
                                      "arn:aws:iam::aws:policy/PowerUserAccess"])
def test_a_boundary_that_is_itself_an_admin_policy_is_reported(type_, boundary):
    [message] = messages(IAM_ROLE_PERMISSIONS_BOUNDARY, view(type_, {"permissionsBoundary": boundary}))
    assert "caps nothing" in message


def test_users_need_no_boundary_but_roles_do():
    assert findings(IAM_ROLE_PERMISSIONS_BOUNDARY, view("aws:iam/user:User", {"name": "ci"})) == []


def test_empty_boundary_is_reported():
    assert len(findings(IAM_ROLE_PERMISSIONS_BOUNDARY, view("aws:iam/role:Role", {"permissionsBoundary": " "}))) == 1


# --- intent, not spelling: resource ARN wildcards ------------------------------------------------------

@pytest.mark.parametrize("arn, words", [
    ("arn:aws:s3:::*", "starts its BucketName with a wildcard"),
    ("arn:aws:s3:::*/*", "starts its BucketName with a wildcard"),
    ("arn:aws:s3:::*-logs/*", "starts its BucketName with a wildcard"),
    ("arn:aws:iam::*:role/*", "wildcard in its account"),
    ("arn:aws:iam::123456789012:role/*", "starts its RoleNameWithPath with a wildcard"),
    ("arn:aws:ssm:*:123456789012:parameter/prod/*", "wildcard in its region"),
    ("arn:aws:logs:eu-central-1:123456789012:*", "wildcard in its resource type"),
    ("arn:aws:logs:eu-central-1:123456789012:log-group:*", "starts its LogGroupName with a wildcard"),
    ("arn:aws:secretsmanager:eu-central-1:123456789012:secret:??????", "starts its SecretId with a wildcard"),
    ("arn:aws:elasticloadbalancing:eu-central-1:123456789012:listener/app/*/*", "LoadBalancerName"),
    ("arn:aws:ecs:eu-central-1:123456789012:service/*/orders", "ClusterName"),
    ("arn:aws:sqs:eu-central-1:123456789012:*", "QueueName"),
    ("arn:*:s3:::bucket", "wildcard in its partition"),
])
def test_judge_rejects_resource_arns_that_widen_by_wildcard(arn, words):
    [finding] = judge_policy_document(doc(allow("s3:GetObject", arn)))
    assert arn in finding.message and words in finding.message


@pytest.mark.parametrize("arn", [
    "arn:aws:s3:::bucket/*", "arn:aws:ecr:eu-central-1:123456789012:repository/prod/*",
    "arn:aws:logs:eu-central-1:123456789012:log-group:/ecs/prod/orders:*",
    "arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/prod-*/*",
    "arn:aws:secretsmanager:eu-central-1:123456789012:secret:prod/db-??????",
    "arn:aws:elasticloadbalancing:eu-central-1:123456789012:listener/app/prod-euc1-platform/*",
    "arn:aws:ecs:eu-central-1:123456789012:service/prod-cluster/*",
])
def test_judge_accepts_wildcards_after_a_fixed_name_prefix(arn):
    assert judge_policy_document(doc(allow("s3:GetObject", arn))) == []


def test_kms_key_wildcard_is_accepted_only_through_one_service_as_aws_documents():
    via_service = allow("kms:Decrypt", "arn:aws:kms:eu-west-1:123456789012:key/*",
                        Condition={"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}})
    assert judge_policy_document(doc(via_service)) == []
    if_exists = dict(via_service, Condition={"StringEqualsIfExists": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}})
    assert len(judge_policy_document(doc(if_exists))) == 1


# --- intent, not spelling: everyone as principal ---------------------------------------------------------

TRUST_ANYONE = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}


@pytest.mark.parametrize("condition", [
    {"StringEquals": {"sts:ExternalId": "secret-handshake"}},                      # not about the caller
    {"Bool": {"aws:SecureTransport": "true"}},
    {"StringEqualsIfExists": {"aws:PrincipalAccount": "123456789012"}},            # passes when absent
    {"ForAllValues:StringEquals": {"aws:PrincipalOrgPaths": ["o-a/r-b/ou-c/"]}},  # passes when absent
    {"StringEquals": {"aws:PrincipalAccount": []}},
    {"StringLike": {"aws:PrincipalArn": "*"}},
    {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/deployer"}},
    {"StringNotEquals": {"aws:PrincipalAccount": "999999999999"}},
])
def test_trust_policy_open_to_everyone_behind_a_condition_that_restricts_nothing_is_rejected(condition):
    [finding] = judge_policy_document(doc(dict(TRUST_ANYONE, Condition=condition)), "trust")
    assert "does not narrow who the caller is" in finding.message


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": ["arn:aws:iam::1:root", "*"]}, {"Federated": "*"}])
def test_every_spelling_of_everyone_is_public(principal):
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    assert "without a Condition" in judge_policy_document(doc(statement), "trust")[0].message


@pytest.mark.parametrize("condition", [
    {"StringEquals": {"aws:PrincipalAccount": "123456789012"}},
    {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": ["o-abc123/r-ab12/ou-ab12-11111111/"]}},
    {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/deployer-*"}},
    {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}},
])
def test_trust_policy_open_to_everyone_but_narrowed_to_the_caller_passes(condition):
    assert judge_policy_document(doc(dict(TRUST_ANYONE, Condition=condition)), "trust") == []


def test_condition_values_unknown_during_preview_defer_the_principal_verdict():
    statement = dict(TRUST_ANYONE, Condition={"ArnEquals": {"aws:SourceArn": UNKNOWN}})
    [finding] = judge_policy_document(doc(statement), "resource")
    assert finding.deferred and "Condition whose values are unknown" in finding.message


def test_judge_rejects_not_principal_with_allow_and_accepts_it_with_deny():
    not_principal = {"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::1:role/x"}, "Action": "sqs:SendMessage",
                     "Resource": "*"}
    [finding] = judge_policy_document(doc(not_principal), "resource")
    assert "NotPrincipal with Allow" in finding.message
    assert judge_policy_document(doc(dict(not_principal, Effect="Deny")), "resource") == []


# --- intent, not spelling: every policy-bearing resource type --------------------------------------------

BAD_RESOURCE_POLICY = doc({"Effect": "Allow", "Principal": "*", "Action": "logs:PutLogEvents", "Resource": "*"})
GOOD_RESOURCE_POLICY = doc({"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                            "Action": "logs:PutLogEvents", "Resource": "*",
                            "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:events:eu-central-1:1:rule/x"}}})


@pytest.mark.parametrize("type_, prop", [
    ("aws:cloudwatch/logResourcePolicy:LogResourcePolicy", "policyDocument"),
    ("aws:cloudwatch/eventBusPolicy:EventBusPolicy", "policy"),
    ("aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate", "repositoryPolicy"),
    ("aws:kms/replicaKey:ReplicaKey", "policy"),
    ("aws:efs/fileSystemPolicy:FileSystemPolicy", "policy"),
    ("aws:opensearch/domainPolicy:DomainPolicy", "accessPolicies"),
    ("aws:s3/bucketV2:BucketV2", "policy"),
    ("aws:glacier/vault:Vault", "accessPolicy"),
    ("aws:acmpca/policy:Policy", "policy"),
])
def test_policy_bearing_types_are_judged(type_, prop):
    assert messages(NO_WILDCARD_IAM, view(type_, {prop: BAD_RESOURCE_POLICY}))
    assert findings(NO_WILDCARD_IAM, view(type_, {prop: GOOD_RESOURCE_POLICY})) == []


def test_a_policy_document_on_a_type_the_pack_does_not_list_is_found_by_its_content():
    unlisted = view("aws:mediastore/containerPolicy:ContainerPolicy", {"containerName": "c",
                                                                       "policy": BAD_RESOURCE_POLICY})
    [message] = messages(NO_WILDCARD_IAM, unlisted)
    assert message.startswith("policy (resource policy)") and "anyone" in message
    assert findings(NO_WILDCARD_IAM, view("aws:mediastore/containerPolicy:ContainerPolicy",
                                          {"policy": GOOD_RESOURCE_POLICY})) == []


@pytest.mark.parametrize("props, expected", [
    ({"action": "lambda:InvokeFunction", "principal": "*"}, 1),
    ({"action": "lambda:*", "principal": "s3.amazonaws.com", "sourceArn": "arn:aws:s3:::b"}, 1),
    ({"action": "lambda:InvokeFunction", "principal": "*", "sourceAccount": "123456789012"}, 0),
    ({"action": "lambda:InvokeFunction", "principal": "events.amazonaws.com", "sourceArn": "arn:aws:events:r:1:rule/x"}, 0),
])
def test_lambda_permissions_are_judged_like_a_resource_policy_statement(props, expected):
    assert len(findings(NO_WILDCARD_IAM, view("aws:lambda/permission:Permission", dict(props, function="f")))) == expected


def test_event_bus_permission_for_everyone_needs_an_organisation_condition():
    open_to_all = view("aws:cloudwatch/eventPermission:EventPermission", {"principal": "*", "statementId": "all"})
    assert len(findings(NO_WILDCARD_IAM, open_to_all)) == 1
    org = view("aws:cloudwatch/eventPermission:EventPermission", {"principal": "*", "statementId": "org", "condition": {
        "key": "aws:PrincipalOrgID", "type": "StringEquals", "value": "o-1234567890"}})
    assert findings(NO_WILDCARD_IAM, org) == []


def test_a_statement_whose_effect_is_not_deny_is_judged_as_allow():
    assert len(judge_policy_document(doc({"Effect": "allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b"}))) == 1


def test_arn_equals_matches_wildcards_so_a_wildcard_account_narrows_nothing():
    statement = dict(TRUST_ANYONE, Condition={"ArnEquals": {"aws:SourceArn": "arn:aws:sns:eu-central-1:*:alerts"}})
    assert len(judge_policy_document(doc(statement), "trust")) == 1
    statement = dict(TRUST_ANYONE, Condition={"ArnEquals": {"aws:SourceArn": "arn:aws:sns:eu-central-1:1:alerts"}})
    assert judge_policy_document(doc(statement), "trust") == []


# --- trust in identity providers anyone can get a token from ----------------------------------------------

GITHUB = {"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
          "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"}}


@pytest.mark.parametrize("condition", [
    None,
    {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}},   # same for everyone
    {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:*"}},
    {"StringLike": {"token.actions.githubusercontent.com:sub": "*"}},
    {"StringLikeIfExists": {"token.actions.githubusercontent.com:sub": "repo:acme/app:*"}},
])
def test_trusting_github_actions_without_naming_the_repository_is_open_to_everyone(condition):
    statement = dict(GITHUB, **({"Condition": condition} if condition else {}))
    [finding] = judge_policy_document(doc(statement), "trust")
    assert "token.actions.githubusercontent.com:sub" in finding.message


def test_trusting_github_actions_of_one_repository_passes():
    statement = dict(GITHUB, Condition={
        "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
        "StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/app:ref:refs/heads/main"}})
    assert judge_policy_document(doc(statement), "trust") == []


def test_trusting_cognito_needs_the_identity_pool_as_audience():
    cognito = {"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
               "Principal": {"Federated": "cognito-identity.amazonaws.com"}}
    assert len(judge_policy_document(doc(cognito), "trust")) == 1
    pinned = dict(cognito, Condition={"StringEquals": {
        "cognito-identity.amazonaws.com:aud": "eu-central-1:12345678-1234-1234-1234-123456789012"}})
    assert judge_policy_document(doc(pinned), "trust") == []
