"""The permission closure (devkit/permissions, docs/permission-closure.md): every request the four stacks'
deploy and preview make, judged against the roles bootstrap/ creates; the table it reads and the IAM
evaluator it uses."""

from __future__ import annotations

import pytest

from devkit.permissions import iam, sar
from devkit.permissions.closure import (
    NOT_YET_DERIVED,
    STACKS,
    Report,
    Role,
    StackRun,
    closure,
    granted_beyond_the_table,
    load_bootstrap_module,
    roles_of,
    run_bootstrap,
)
from devkit.permissions.dependencies import DISMISSED
from devkit.permissions.requests import TABLE, Expander, Records
from devkit.run import StackPreview

ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def bootstrap():
    return run_bootstrap()


@pytest.fixture(scope="module")
def reports(staging, staging_standby, prod, prod_standby, bootstrap) -> list[tuple[Report, Report]]:
    previews: dict[str, StackPreview] = {"staging": staging, "staging-euw1": staging_standby, "prod": prod,
                                         "prod-euw1": prod_standby}
    runs = [StackRun(stack, primary, ACCOUNT, previews[stack].recorder.resources, previews[stack].recorder.invokes)
            for stack, primary in STACKS]
    return closure(runs, bootstrap)


def test_every_deploy_and_preview_request_of_every_stack_is_allowed_by_its_role(reports):
    gaps = [str(gap) for deploy, preview in reports for gap in (*deploy.gaps, *preview.gaps)]
    assert not gaps, f"{len(gaps)} gaps:\n" + "\n".join(gaps[:60])
    assert all(deploy.requests > 1000 and preview.requests >= 6 for deploy, preview in reports)


def test_the_closure_reports_a_role_that_lost_its_key_use_through_the_services(prod, bootstrap):
    roles = dict(roles_of(bootstrap))
    deploy = roles["github-deploy-prod"]
    without = tuple({**d, "Statement": [s for s in d["Statement"]
                                        if s.get("Sid") != "UseThisEnvironmentsKeysThroughThePlatformServices"]}
                    for d in deploy.identity)
    roles["github-deploy-prod"] = Role(deploy.name, deploy.arn, without, deploy.boundary)
    run = StackRun("prod", None, ACCOUNT, prod.recorder.resources, prod.recorder.invokes)
    [(report, _)] = closure([run], roles=roles)
    gaps = {(g.type, g.action) for g in report.gaps}
    assert ("aws:ecr/repository:Repository", "kms:CreateGrant") in gaps
    assert ("aws:rds/cluster:Cluster", "kms:CreateGrant") in gaps
    assert ("aws:secretsmanager/secretVersion:SecretVersion", "kms:GenerateDataKey") in gaps


def test_the_prod_preview_runs_its_password_invoke_and_the_preview_role_may_run_it(prod, reports):
    assert ("aws:secretsmanager/getRandomPassword:getRandomPassword", "eu-central-1") in prod.recorder.invokes
    [preview] = [p for d, p in reports if d.stack == "prod"]
    assert preview.requests == 7 and not preview.gaps


def test_nothing_in_the_stacks_is_left_undecidable(reports):
    undecidable = [u for deploy, _ in reports for u in deploy.undecidable]
    assert not undecidable, undecidable[:20]


def test_every_resource_type_the_stacks_and_bootstrap_register_has_rows_with_real_iam_actions(
        staging, prod, prod_standby, bootstrap):
    registered = {r.type for p in (staging, prod, prod_standby) for r in p.recorder.resources
                  if r.custom and r.type.startswith("aws:")}
    registered |= {r.type for r in bootstrap.resources if r.type.startswith("aws:")}
    assert not registered - set(TABLE), sorted(registered - set(TABLE))
    for rows in TABLE.values():
        assert rows.create and rows.read, rows.type
        for operation in ("create", "read", "update", "delete"):
            for call in rows.calls(operation):
                for action in call.actions:
                    assert sar.exists(action) and sar.canonical(action) == action, (rows.type, action)


def test_every_dependent_action_the_sar_lists_is_in_the_row_or_dismissed_with_a_reason():
    missing = []
    for rows in TABLE.values():
        for operation in ("create", "read", "update", "delete"):
            actions = {a for call in rows.calls(operation) for a in call.actions}
            for action in actions:
                for entry in sar.entries(action):
                    missing += [(rows.type, operation, action, d) for d in entry.dependent_actions
                                if d not in actions and (action, d) not in DISMISSED]
    assert not missing, sorted(set(missing))


def test_the_deploy_roles_hold_no_action_the_closure_does_not_require_beyond_the_listed_unconfirmed_reads():
    beyond = granted_beyond_the_table(load_bootstrap_module())
    assert set(beyond) <= NOT_YET_DERIVED, sorted(set(beyond) - NOT_YET_DERIVED)


def test_no_deploy_role_can_delete_or_change_what_the_bootstrap_created(bootstrap):
    roles = roles_of(bootstrap)
    records = bootstrap.resources
    requests = [r for r in Expander("bootstrap", records, Records(records), ACCOUNT).requests()
                if r.operation in ("update", "delete") and not r.action.split(":")[1].startswith(("Get", "List",
                                                                                                     "Describe"))]
    assert len(requests) > 50
    for name in ("github-deploy-staging", "github-deploy-prod", "github-preview"):
        role = roles[name]
        allowed = [f"{r.action} on {r.arn} ({r.resource})" for r in requests
                   if iam.decide(role.identity, role.boundary, iam.Request(r.action, r.arn, r.context_map)).allowed]
        assert not allowed, f"{name}: {allowed[:10]}"


# --- the evaluator ---------------------------------------------------------------------------------

def _request(action: str, resource: str = "arn:aws:s3:::b", **context: str) -> iam.Request:
    return iam.Request(action, resource, {k.lower(): (v,) for k, v in context.items()})


ALLOW_ALL_S3 = {"Statement": [{"Effect": "Allow", "Action": ["s3:Get*"], "Resource": "*"}]}


def test_a_negated_operator_matches_an_absent_key_and_denies_untagged_resources():
    deny = {"Statement": [*ALLOW_ALL_S3["Statement"], {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*",
                                                       "Condition": {"StringNotEquals": {"aws:ResourceTag/env": "x"}}}]}
    assert iam.decide([deny], None, _request("s3:GetObject")).outcome == "explicit-deny"
    assert iam.decide([deny], None, _request("s3:GetObject", **{"aws:ResourceTag/env": "x"})).allowed
    assert iam.decide([deny], None, _request("s3:GetBucketTagging")).allowed


def test_the_boundary_must_allow_too_and_not_action_and_not_resource_exclude():
    boundary = {"Statement": [{"Effect": "Allow", "NotAction": "s3:GetObject", "Resource": "*"}]}
    assert iam.decide([ALLOW_ALL_S3], boundary, _request("s3:GetObject")).reason == \
        "the permissions boundary does not allow it"
    assert iam.decide([ALLOW_ALL_S3], boundary, _request("s3:GetBucketAcl")).allowed
    not_resource = {"Statement": [{"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::b"}]}
    assert not iam.decide([not_resource], None, _request("s3:GetObject")).allowed
    assert iam.decide([not_resource], None, _request("s3:GetObject", "arn:aws:s3:::c")).allowed


def test_a_request_without_resource_level_permission_is_matched_only_by_a_star_resource():
    scoped = {"Statement": [{"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "arn:aws:ecr:*"}]}
    assert not iam.decide([scoped], None, _request("ecr:GetAuthorizationToken", "*")).allowed


def test_an_operator_the_evaluator_does_not_know_stops_it():
    policy = {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                             "Condition": {"NumericLessThan": {"s3:max-keys": "10"}}}]}
    with pytest.raises(iam.UnsupportedCondition, match="NumericLessThan"):
        iam.decide([policy], None, _request("s3:GetObject"))


def test_a_key_policy_that_names_neither_the_account_nor_the_role_refuses_the_key():
    key_policy = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                                 "Action": "kms:*", "Resource": "*"}]}
    request = _request("kms:CreateGrant", "arn:aws:kms:eu-central-1:123456789012:key/k")
    assert not iam.key_policy_allows(key_policy, "arn:aws:iam::123456789012:role/r", ACCOUNT, request).allowed
