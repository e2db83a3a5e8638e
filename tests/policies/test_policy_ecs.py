"""Task size, container hardening, deployment rollback, canary bounds, Service Connect TLS."""

from __future__ import annotations

import json

import pytest
from policy_records import COST_TAGS, UNKNOWN, StackRecords, of_policy

GOOD_CONTAINER = {"name": "app", "image": "repo:1", "user": "1000:1000", "readonlyRootFilesystem": True,
                  "environment": [{"name": "LOG_LEVEL", "value": "info"},
                                  {"name": "DB_SECRET_ARN", "value": "arn:aws:secretsmanager:eu-central-1:1:secret:db"}],
                  "secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:eu-central-1:1:secret:db"}]}


def task(stack, cpu="512", memory="1024", containers=(GOOD_CONTAINER,), **extra):
    inputs = {"family": "app", "cpu": cpu, "memory": memory, "requiresCompatibilities": ["FARGATE"],
              "networkMode": "awsvpc", "containerDefinitions": json.dumps(list(containers)), **extra}
    return stack.add("aws:ecs/taskDefinition:TaskDefinition", "app", inputs)


def findings(pack, stack, record, policy):
    return of_policy(pack.analyze(record, stack.records), policy)


@pytest.mark.parametrize("cpu, memory", [("256", "512"), ("1024", "8192"), ("1 vCPU", "2 GB"), ("8192", "61440")])
def test_valid_fargate_sizes_pass(pack, cpu, memory):
    stack = StackRecords()
    assert findings(pack, stack, task(stack, cpu, memory), "fargate-task-size") == []


@pytest.mark.parametrize("cpu, memory, words", [
    ("256", "4096", "not valid with cpu"), ("768", "2048", "not a Fargate CPU size"),
    ("8192", "18432", "steps of 4096"), (UNKNOWN, "1024", "unknown during preview")])
def test_invalid_or_unknown_fargate_sizes_fail(pack, cpu, memory, words):
    stack = StackRecords()
    found = findings(pack, stack, task(stack, cpu, memory), "fargate-task-size")
    assert len(found) == 1 and words in found[0].detail


def test_ec2_only_task_definitions_are_not_judged_for_fargate_size(pack):
    stack = StackRecords()
    record = task(stack, "300", "300", requiresCompatibilities=["EC2"])
    assert findings(pack, stack, record, "fargate-task-size") == []


def test_hardened_container_passes_all_container_policies(pack):
    stack = StackRecords()
    diagnostics = pack.analyze(task(stack), stack.records)
    assert [d for d in diagnostics if d.policy_name.startswith("container-")] == []


@pytest.mark.parametrize("user", [None, "root", "0", "0:0"])
def test_root_or_missing_user_fails(pack, user):
    stack = StackRecords()
    container = dict(GOOD_CONTAINER, user=user) if user else {k: v for k, v in GOOD_CONTAINER.items() if k != "user"}
    found = findings(pack, stack, task(stack, containers=[container]), "container-non-root-user")
    assert len(found) == 1 and "container 'app'" in found[0].detail


def test_writable_root_file_system_fails(pack):
    stack = StackRecords()
    sidecar = dict(GOOD_CONTAINER, name="otel", readonlyRootFilesystem=False)
    found = findings(pack, stack, task(stack, containers=[GOOD_CONTAINER, sidecar]), "container-read-only-root-fs")
    assert len(found) == 1 and "container 'otel'" in found[0].detail


@pytest.mark.parametrize("name, value", [
    ("DB_PASSWORD", "hunter2hunter2"), ("STRIPE_API_KEY", UNKNOWN), ("AUTH_TOKEN", "abc"),
    ("SOME_ID", "AKIAABCDEFGHIJKLMNOP")])
def test_secret_looking_environment_variables_fail(pack, name, value):
    stack = StackRecords()
    container = dict(GOOD_CONTAINER, environment=[{"name": name, "value": value}])
    found = findings(pack, stack, task(stack, containers=[container]), "container-env-no-secrets")
    assert len(found) == 1 and name in found[0].detail and found[0].severity == "critical"


def test_unknown_container_definitions_are_judged_at_update(pack):
    stack = StackRecords()
    record = task(stack)
    record["inputs"]["containerDefinitions"] = UNKNOWN
    result = pack.analyze_result(record, stack.records)
    assert [d for d in result.diagnostics if d.policy_name.startswith("container-")] == []
    assert {n.policy_name for n in result.not_applicable} == {
        "container-read-only-root-fs", "container-non-root-user", "container-env-no-secrets"}


def service(stack, strategy=None, tags=None, **inputs):
    if strategy:
        inputs.setdefault("deploymentConfiguration", {})["strategy"] = strategy
    if tags is not None:
        inputs["tags"] = tags
    return stack.add("aws:ecs/service:Service", "api", inputs)


BREAKER = {"deploymentCircuitBreaker": {"enable": True, "rollback": True}}
ALARMS = {"alarms": {"enable": True, "rollback": True, "alarmNames": [UNKNOWN]}}


@pytest.mark.parametrize("strategy, inputs, expected", [
    (None, BREAKER, 0),
    ("ROLLING", {}, 1),
    ("ROLLING", {"deploymentCircuitBreaker": {"enable": True, "rollback": False}}, 1),
    ("CANARY", ALARMS, 0),
    ("CANARY", BREAKER, 1),            # the circuit breaker is not the rollback mechanism for canaries
    ("LINEAR", {"alarms": {"enable": True, "rollback": True, "alarmNames": []}}, 1),
    ("BLUE_GREEN", ALARMS, 0),
    (UNKNOWN, BREAKER, 1),
])
def test_deployment_rollback_mechanism_depends_on_strategy(pack, strategy, inputs, expected):
    stack = StackRecords()
    record = service(stack, strategy, **json.loads(json.dumps(inputs)))
    assert len(findings(pack, stack, record, "ecs-deployment-rollback")) == expected


def test_code_deploy_controller_is_not_judged_for_rollback(pack):
    stack = StackRecords()
    record = service(stack, deploymentController={"type": "CODE_DEPLOY"})
    result = pack.analyze_result(record, stack.records)
    assert of_policy(result.diagnostics, "ecs-deployment-rollback") == []
    assert "ecs-deployment-rollback" in {n.policy_name for n in result.not_applicable}


@pytest.mark.parametrize("percent, expected", [(1.0, 0), (5.0, 0), (None, 0), (10.0, 1), (0.5, 1), (UNKNOWN, 1)])
def test_canary_percent_within_bounds(pack, percent, expected):
    stack = StackRecords()
    config = {"strategy": "CANARY"}
    if percent is not None:
        config["canaryConfiguration"] = {"canaryPercent": percent, "canaryBakeTimeInMinutes": "10"}
    record = service(stack, deploymentConfiguration=config, **ALARMS)
    assert len(findings(pack, stack, record, "ecs-canary-percent")) == expected


def test_canary_bounds_are_configurable(pack):
    stack = StackRecords()
    record = service(stack, deploymentConfiguration={"strategy": "CANARY",
                                                     "canaryConfiguration": {"canaryPercent": 10.0}})
    pack.configure({"ecs-canary-percent": {"maxPercent": 10}})
    assert findings(pack, stack, record, "ecs-canary-percent") == []


def connect(tls=True):
    entry = {"portName": "http", "clientAlias": [{"port": 80}]}
    if tls:
        entry["tls"] = {"issuerCertAuthority": {"awsPcaAuthorityArn": UNKNOWN}, "roleArn": UNKNOWN}
    return {"enabled": True, "namespace": "arn:ns", "services": [entry]}


@pytest.mark.parametrize("environment, tls, expected", [
    ("prod", True, 0), ("prod", False, 1), ("staging", False, 0)])
def test_service_connect_tls_required_in_prod(pack, environment, tls, expected):
    stack = StackRecords(default_tags=dict(COST_TAGS, environment=environment))
    record = service(stack, serviceConnectConfiguration=connect(tls))
    found = findings(pack, stack, record, "service-connect-tls-prod")
    assert len(found) == expected
    if expected:
        assert "portName 'http'" in found[0].detail and "aws_pca_authority_arn" in found[0].detail


def test_service_connect_environment_from_own_tags_overrides_provider(pack):
    stack = StackRecords()  # provider says staging
    record = service(stack, tags={"environment": "prod"}, serviceConnectConfiguration=connect(False))
    assert len(findings(pack, stack, record, "service-connect-tls-prod")) == 1
