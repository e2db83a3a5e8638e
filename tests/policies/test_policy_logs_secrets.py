"""Logs and secrets judged by intent: log groups created at run time under any spelling or by other writers,
credentials in any format and in every plain environment, settings that only mention a secret."""

from __future__ import annotations

import base64
import json

import pytest
from views import UNKNOWN, Stack, findings, view

from policies.environment_secrets import CONTAINER_ENV_NO_SECRETS
from policies.log_groups import CONTAINER_LOG_GROUP_MANAGED, FUNCTION_LOG_GROUP_MANAGED

TASK = "aws:ecs/taskDefinition:TaskDefinition"
CONTAINER = {"name": "app", "image": "repo:1", "user": "1000:1000", "readonlyRootFilesystem": True}


def task(**container) -> object:
    return view(TASK, {"containerDefinitions": json.dumps([{**CONTAINER, **container}])})


def awslogs(**options) -> dict:
    return {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/app", **options}}


@pytest.mark.parametrize("spelling", ["1", "On", "TRUE", "yes", " true "])
def test_awslogs_create_group_in_any_spelling_of_true_is_refused(spelling):
    found = findings(CONTAINER_LOG_GROUP_MANAGED, task(logConfiguration=awslogs(**{"awslogs-create-group": spelling})))
    assert len(found) == 1 and "awslogs-create-group" in found[0].message


@pytest.mark.parametrize("spelling", ["false", "0", "Off", "no"])
def test_awslogs_create_group_switched_off_passes(spelling):
    assert findings(CONTAINER_LOG_GROUP_MANAGED, task(logConfiguration=awslogs(**{"awslogs-create-group": spelling}))) == []


def test_the_service_connect_proxy_creating_its_log_group_is_refused():
    service = view("aws:ecs/service:Service", {"serviceConnectConfiguration": {
        "enabled": True, "logConfiguration": awslogs(**{"awslogs-create-group": "true"})}})
    assert len(findings(CONTAINER_LOG_GROUP_MANAGED, service)) == 1
    managed = view("aws:ecs/service:Service", {"serviceConnectConfiguration": {
        "enabled": True, "logConfiguration": awslogs()}})
    assert findings(CONTAINER_LOG_GROUP_MANAGED, managed) == []


def test_a_lambda_function_without_a_managed_log_group_is_refused_and_one_with_it_passes():
    stack = Stack()
    function = stack.add("aws:lambda/function:Function", "fn", {"name": "orders-fn"})
    assert [f.urn for f in findings(FUNCTION_LOG_GROUP_MANAGED, stack.views)] == [function.urn]
    stack.add("aws:cloudwatch/logGroup:LogGroup", "fn-logs", {"name": "/aws/lambda/orders-fn", "retentionInDays": 30})
    assert findings(FUNCTION_LOG_GROUP_MANAGED, stack.views) == []
    custom = Stack()
    group = custom.add("aws:cloudwatch/logGroup:LogGroup", "shared", {"name": UNKNOWN})
    custom.add("aws:lambda/function:Function", "fn", {"name": "x", "loggingConfig": {"logGroup": UNKNOWN}},
               deps={"loggingConfig": [group]})
    assert findings(FUNCTION_LOG_GROUP_MANAGED, custom.views) == []


def env(**variables) -> object:
    return task(environment=[{"name": k, "value": v} for k, v in variables.items()])


@pytest.mark.parametrize("name, value", [
    ("GH", "ghp_" + "a1B2" * 9),
    ("GH_FINE", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz"),
    ("SLACK", "xoxb-123456789012-abcdefghijkl"),
    ("STRIPE", "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"),
    ("MAPS", "AIza" + "SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"),
    ("KEY_PEM", "-----BEGIN RSA PRIVATE KEY-----\nMIIE..."),
    ("UPSTREAM", "https://deploy:s3cr3t-pass@git.example.com/repo.git"),
    ("CALLBACK", "https://api.example.com/hook?access_token=abcdef0123456789"),
    ("SIGNING", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),   # a base64-looking key under an innocent name
    ("PAYMENT_SECRET", "opensesame"),
    ("DB_PASSWORD", "12345678"),
    ("SERVICE_TOKEN", "t0k3n"),
])
def test_credentials_in_other_formats_and_literal_secret_names_are_refused(name, value):
    assert len(findings(CONTAINER_ENV_NO_SECRETS, env(**{name: value}))) == 1


@pytest.mark.parametrize("name, value", [
    ("TOKEN_TTL_SECONDS", "3600"),
    ("PASSWORD_MIN_LENGTH", "12"),
    ("API_KEY_HEADER", "X-Api-Key"),
    ("DB_PASSWORD", "{{resolve:secretsmanager:db:SecretString:password}}"),
    ("SESSION_SECRET", "${SESSION_SECRET}"),
    ("CLUSTER_NAME", "staging-eu-central-1-cluster-a4c03cf"),
    ("IMAGE_DIGEST", "sha256:" + "ab12" * 16),
    ("REQUEST_ID_HEADER", "X-Request-Id"),
])
def test_settings_that_mention_a_secret_and_references_pass(name, value):
    assert findings(CONTAINER_ENV_NO_SECRETS, env(**{name: value})) == []


SECRET = "ghp_" + "a1B2" * 9


@pytest.mark.parametrize("type_, props", [
    ("aws:batch/jobDefinition:JobDefinition",
     {"containerProperties": json.dumps({"environment": [{"name": "GH", "value": SECRET}]})}),
    ("aws:batch/jobDefinition:JobDefinition", {"ecsProperties": json.dumps({"taskProperties": [{"containers": [
        {"name": "c", "environment": [{"name": "DB_PASSWORD", "value": "hunter22"}]}]}]})}),
    ("aws:apprunner/service:Service", {"sourceConfiguration": {"imageRepository": {"imageConfiguration": {
        "runtimeEnvironmentVariables": {"API_TOKEN": "abc123xyz"}}}}}),
    ("aws:codebuild/project:Project", {"environment": {"environmentVariables": [
        {"name": "NPM_TOKEN", "value": "npm_abcdef", "type": "PLAINTEXT"}]}}),
    ("aws:ec2/launchTemplate:LaunchTemplate",
     {"userData": base64.b64encode(b"#!/bin/bash\nexport DB_PASSWORD=hunter22\n").decode()}),
    ("aws:ec2/instance:Instance", {"userData": "#!/bin/bash\ncurl -H 'Authorization: Bearer abcdefghijklmnop1234'"}),
])
def test_environments_outside_task_definitions_and_lambda_are_judged(type_, props):
    assert len(findings(CONTAINER_ENV_NO_SECRETS, view(type_, props))) == 1


def test_codebuild_variables_from_secrets_manager_and_plain_user_data_pass():
    build = view("aws:codebuild/project:Project", {"environment": {"environmentVariables": [
        {"name": "NPM_TOKEN", "value": "ci/npm:token", "type": "SECRETS_MANAGER"},
        {"name": "STAGE", "value": "staging"}]}})
    assert findings(CONTAINER_ENV_NO_SECRETS, build) == []
    boot = view("aws:ec2/launchTemplate:LaunchTemplate",
                {"userData": base64.b64encode(b"#!/bin/bash\nexport STAGE=staging\n").decode()})
    assert findings(CONTAINER_ENV_NO_SECRETS, boot) == []


def test_the_name_globs_compiled_together_match_where_one_of_them_matches():
    import fnmatch

    from policies.environment_secrets import _globs

    globs = ["*PASSWORD*", "*PWD", "DB_?", "[AB]*_KEY", "*A*B*C"]
    for name in ["DB_PASSWORD", "PWD", "XPWDY", "DB_X", "DB_XY", "A_KEY", "C_KEY", "AXBYC", "AXBYCD", "", "A"]:
        assert (_globs(globs).match(name) is not None) == any(fnmatch.fnmatchcase(name, g) for g in globs), name
    assert _globs([]).match("ANYTHING") is None


def test_other_secret_knobs_are_compiled_again_not_served_from_the_last_config():
    variable = task(environment=[{"name": "SESSION_COOKIE", "value": "literal-value"}])
    assert findings(CONTAINER_ENV_NO_SECRETS, variable) == []
    assert len(findings(CONTAINER_ENV_NO_SECRETS, variable, secretNamePatterns=["*COOKIE*"])) == 1
    assert findings(CONTAINER_ENV_NO_SECRETS, variable) == []
    assert findings(CONTAINER_ENV_NO_SECRETS, task(environment=[{"name": "X", "value": "hunter2-value"}]),
                    secretValuePatterns=["hunter2"])
    config = CONTAINER_ENV_NO_SECRETS.effective_config({})
    assert list(CONTAINER_ENV_NO_SECRETS.check(variable, config)) == []
    config["secretNamePatterns"] = [*config["secretNamePatterns"], "*COOKIE*"]  # the same config object, edited
    assert len(list(CONTAINER_ENV_NO_SECRETS.check(variable, config))) == 1
