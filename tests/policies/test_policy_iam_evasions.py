"""IAM judged by intent: conditions that restrict nothing, wildcard sources and public layers, admin-equivalent
managed policies under other names, own-account and own-organisation wildcards that do restrict, and ECR
exclusion filters that together exempt every tag."""

from __future__ import annotations

import json
import string

import pytest
from views import findings, view

from policies.ecr_repositories import ECR_IMMUTABLE_TAGS
from policies.iam_documents import NO_WILDCARD_IAM, judge_policy_document
from policies.iam_managed_policies import NO_ADMIN_MANAGED_POLICIES

GITHUB = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"


def trust(condition: dict) -> dict:
    return {"Statement": [{"Effect": "Allow", "Principal": {"Federated": GITHUB},
                           "Action": "sts:AssumeRoleWithWebIdentity", "Condition": condition}]}


@pytest.mark.parametrize("subject", ["repo:acme/*", "repo:acme/*:ref:refs/heads/main", "repo:*/app:*",
                                     "repo:${aws:username}/app"])
def test_an_oidc_subject_that_names_no_repository_restricts_nothing(subject):
    found = judge_policy_document(trust({"StringLike": {"token.actions.githubusercontent.com:sub": subject}}), "trust")
    assert len(found) == 1 and "anyone can get a token" in found[0].message


@pytest.mark.parametrize("subject", ["repo:acme/app:ref:refs/heads/main", "repo:acme/app:*",
                                     "repo:acme/app:environment:prod"])
def test_an_oidc_subject_naming_the_repository_passes(subject):
    assert judge_policy_document(trust({"StringLike": {"token.actions.githubusercontent.com:sub": subject}}),
                                 "trust") == []


def public(condition: dict) -> dict:
    return {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage",
                           "Resource": "arn:aws:sqs:eu-central-1:123456789012:orders", "Condition": condition}]}


@pytest.mark.parametrize("condition", [
    {"StringEquals": {"aws:PrincipalAccount": "${aws:PrincipalAccount}"}},
    {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::${aws:PrincipalAccount}:role/*"}},
    {"StringLike": {"aws:SourceArn": "arn:aws:*:*:*:*"}},
])
def test_conditions_on_always_true_variables_restrict_nothing(condition):
    assert len(judge_policy_document(public(condition), "resource")) == 1


@pytest.mark.parametrize("condition", [
    {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/*"}},
    {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
    {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"}},
    {"StringEquals": {"aws:PrincipalOrgID": "${aws:ResourceOrgID}"}},
])
def test_own_account_and_own_organisation_wildcards_do_restrict(condition):
    assert judge_policy_document(public(condition), "resource") == []


def key_star(services: list[str]) -> dict:
    return {"Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:eu-central-1:1:key/*",
                           "Condition": {"StringEquals": {"kms:ViaService": services}}}]}


def test_kms_via_service_listing_many_services_does_not_excuse_key_star():
    many = [f"{s}.eu-central-1.amazonaws.com" for s in ("s3", "sqs", "dynamodb", "secretsmanager", "ssm")]
    assert len(judge_policy_document(key_star(many))) == 1
    assert judge_policy_document(key_star(["sqs.eu-central-1.amazonaws.com"])) == []
    assert judge_policy_document(key_star(["dynamodb.eu-central-1.amazonaws.com", "sqs.eu-central-1.amazonaws.com"])) == []


PERMISSION = "aws:lambda/permission:Permission"


@pytest.mark.parametrize("props", [
    {"principal": "s3.amazonaws.com", "sourceArn": "arn:aws:s3:::*"},
    {"principal": "sns.amazonaws.com"},
    {"principal": "*", "sourceArn": "arn:aws:execute-api:eu-central-1:*:*"},
])
def test_lambda_permissions_with_wildcard_or_missing_sources_are_refused(props):
    assert findings(NO_WILDCARD_IAM, view(PERMISSION, {"action": "lambda:InvokeFunction", "function": "f", **props}))


def test_a_lambda_permission_naming_its_source_passes():
    props = {"action": "lambda:InvokeFunction", "function": "f", "principal": "sns.amazonaws.com",
             "sourceArn": "arn:aws:sns:eu-central-1:123456789012:alerts"}
    assert findings(NO_WILDCARD_IAM, view(PERMISSION, props)) == []


def test_a_public_layer_is_refused_and_an_organisation_layer_passes():
    layer = "aws:lambda/layerVersionPermission:LayerVersionPermission"
    base = {"layerName": "shared", "versionNumber": 1, "statementId": "s", "action": "lambda:GetLayerVersion"}
    assert len(findings(NO_WILDCARD_IAM, view(layer, {**base, "principal": "*"}))) == 1
    assert findings(NO_WILDCARD_IAM, view(layer, {**base, "principal": "*", "organizationId": "o-a1b2c3d4e5"})) == []
    assert findings(NO_WILDCARD_IAM, view(layer, {**base, "principal": "123456789012"})) == []


@pytest.mark.parametrize("arn", ["arn:aws:iam::aws:policy/AWSKeyManagementServicePowerUser",
                                 "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser",
                                 "arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM",
                                 "arn:aws:iam::aws:policy/service-role/AmazonElasticMapReduceRole"])
def test_admin_equivalent_managed_policies_under_other_names_are_refused(arn):
    attachment = view("aws:iam/rolePolicyAttachment:RolePolicyAttachment", {"role": "r", "policyArn": arn})
    assert len(findings(NO_ADMIN_MANAGED_POLICIES, attachment)) == 1


def test_narrow_aws_managed_policies_pass():
    arn = "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"
    attachment = view("aws:iam/rolePolicyAttachment:RolePolicyAttachment", {"role": "r", "policyArn": arn})
    assert findings(NO_ADMIN_MANAGED_POLICIES, attachment) == []


def test_inline_documents_granting_iam_star_are_refused():
    role = view("aws:iam/role:Role", {"inlinePolicies": [{"name": "x", "policy": json.dumps({"Statement": [
        {"Effect": "Allow", "Action": "iam:*", "Resource": "arn:aws:iam::123456789012:role/app"}]})}]})
    assert findings(NO_WILDCARD_IAM, role)


def repository(*patterns: str) -> object:
    return view("aws:ecr/repository:Repository", {"imageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
                                                  "imageTagMutabilityExclusionFilters": [
                                                      {"filter": p, "filterType": "WILDCARD"} for p in patterns]})


def test_exclusion_filters_that_together_exempt_every_tag_are_refused():
    every_start = [f"{c}*" for c in string.ascii_letters + string.digits + "_"]
    assert len(findings(ECR_IMMUTABLE_TAGS, repository(*every_start))) == 1
    assert findings(ECR_IMMUTABLE_TAGS, repository("latest", "dev-*")) == []


def test_the_quick_look_for_embedded_documents_never_hides_one_the_full_walk_finds(monkeypatch):
    import random

    from policies import iam_documents

    rng = random.Random(3)
    document = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    leaves = [document, json.dumps(document), " " + json.dumps(document), "mentions Statement only", "{Statement",
              "plain", 7, None, "04da6b54-80e4-46f7-96ec-b56ff0331ba9"]

    def props(depth: int):
        if depth > 4 or rng.random() < 0.3:
            return rng.choice(leaves)
        children = [props(depth + 1) for _ in range(rng.randint(1, 3))]
        return children if rng.random() < 0.4 else {f"p{i}": child for i, child in enumerate(children)}

    resources = [view("aws:newservice/thing:Thing", {"a": props(1), "b": props(2)}) for _ in range(300)]
    quick = [list(iam_documents._embedded_documents(r)) for r in resources]
    monkeypatch.setattr(iam_documents, "_may_hold_document", lambda value, depth: True)
    walked = [list(iam_documents._embedded_documents(r)) for r in resources]
    assert quick == walked and sum(map(len, walked)) > 50 and walked.count([]) > 20


def test_where_an_arns_name_starts_is_read_from_the_formats_worked_out_once_per_service():
    from policies.iam_arns import _arn_formats, _name_segment

    def scanned(service: str, segments: list[str]):  # every format read again for each ARN, as before
        best = None
        for fmt in _arn_formats(service):
            first = next((i for i, seg in enumerate(fmt) if seg.startswith("${")), None)
            if first is not None and list(fmt[:first]) == segments[:first] and (best is None or first > best[0]):
                best = (first, fmt[first].strip("${}"))
        return best

    asked = 0
    for service in ("s3", "iam", "ecr", "logs", "kms", "elasticloadbalancing", "sqs", "sns", "ssm", "rds", "ecs"):
        for fmt in _arn_formats(service):
            for fill in ("name", "*"):
                segments = [fill if seg.startswith("${") else seg for seg in fmt]
                for cut in range(len(segments) + 1):
                    assert _name_segment(service, segments[:cut]) == scanned(service, segments[:cut])
                    asked += 1
    assert asked > 500


def test_a_document_text_is_judged_once_per_kind_and_two_texts_never_share_a_judgment():
    from policies.framework import NotJudged
    from policies.iam_documents import _judged_text

    public = json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}]})
    assert _judged_text(public, "trust") == tuple(judge_policy_document(public, "trust"))
    assert _judged_text(public, "trust") is _judged_text("".join(public), "trust")
    assert _judged_text(public, "trust") != _judged_text(public, "identity")
    wide = json.dumps({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    scoped = wide.replace('"s3:*"', '"s3:GetObject"').replace('"*"}', '"arn:aws:s3:::bucket/key"}')
    assert _judged_text(wide, "identity") and _judged_text(scoped, "identity") == ()
    role = view("aws:iam/role:Role", {"assumeRolePolicy": public}, name="one")
    other = view("aws:iam/role:Role", {"assumeRolePolicy": public.replace("*", "123456789012")}, name="other")
    assert findings(NO_WILDCARD_IAM, role) and not findings(NO_WILDCARD_IAM, other)
    unknown = json.dumps({"Statement": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"})
    for _ in range(2):
        with pytest.raises(NotJudged):
            _judged_text(unknown, "identity")
