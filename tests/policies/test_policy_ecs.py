"""Task size, container hardening, deployment rollback, canary bounds, Service Connect TLS, public IPs."""

from __future__ import annotations

import json

import pytest
from views import COST_TAGS, UNKNOWN, findings, messages, not_judged, provider, view

from policies.ecs_containers import CONTAINER_ENV_NO_SECRETS, CONTAINER_NON_ROOT_USER, CONTAINER_READ_ONLY_ROOT
from policies.ecs_deployments import ECS_CANARY_PERCENT, ECS_DEPLOYMENT_ROLLBACK
from policies.ecs_network import ECS_NO_PUBLIC_IP
from policies.ecs_service_connect import SERVICE_CONNECT_TLS_PROD
from policies.ecs_task_size import FARGATE_TASK_SIZE

GOOD_CONTAINER = {"name": "app", "image": "repo:1", "user": "1000:1000", "readonlyRootFilesystem": True,
                  "environment": [{"name": "LOG_LEVEL", "value": "info"},
                                  {"name": "DB_SECRET_ARN", "value": "arn:aws:secretsmanager:eu-central-1:1:secret:db"}],
                  "secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:eu-central-1:1:secret:db"}]}
CONTAINER_SPECS = (CONTAINER_READ_ONLY_ROOT, CONTAINER_NON_ROOT_USER, CONTAINER_ENV_NO_SECRETS)


def task(cpu="512", memory="1024", containers=(GOOD_CONTAINER,), **extra):
    return view("aws:ecs/taskDefinition:TaskDefinition", {
        "family": "app", "cpu": cpu, "memory": memory, "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc", "containerDefinitions": json.dumps(list(containers)), **extra})


# --- fargate-task-size -----------------------------------------------------------------------------

@pytest.mark.parametrize("cpu, memory", [("256", "512"), ("1024", "8192"), ("1 vCPU", "2 GB"), ("8192", "61440")])
def test_valid_fargate_sizes_pass(cpu, memory):
    assert findings(FARGATE_TASK_SIZE, task(cpu, memory)) == []


@pytest.mark.parametrize("cpu, memory, words", [
    ("256", "4096", "not valid with cpu"), ("768", "2048", "not a Fargate CPU size"),
    ("8192", "18432", "steps of 4096"), (UNKNOWN, "1024", "unknown during preview")])
def test_invalid_or_unknown_fargate_sizes_fail(cpu, memory, words):
    [message] = messages(FARGATE_TASK_SIZE, task(cpu, memory))
    assert words in message


def test_ec2_only_task_definitions_are_not_judged_for_fargate_size():
    assert findings(FARGATE_TASK_SIZE, task("300", "300", requiresCompatibilities=["EC2"])) == []


# --- container hardening ---------------------------------------------------------------------------

@pytest.mark.parametrize("spec", CONTAINER_SPECS, ids=lambda s: s.name)
def test_hardened_container_passes(spec):
    assert findings(spec, task()) == []


@pytest.mark.parametrize("user", [None, "root", "0", "0:0"])
def test_root_or_missing_user_fails(user):
    container = dict(GOOD_CONTAINER, user=user) if user else {k: v for k, v in GOOD_CONTAINER.items() if k != "user"}
    [message] = messages(CONTAINER_NON_ROOT_USER, task(containers=[container]))
    assert "container 'app'" in message


def test_writable_root_file_system_fails_on_the_container_that_has_it():
    sidecar = dict(GOOD_CONTAINER, name="otel", readonlyRootFilesystem=False)
    [message] = messages(CONTAINER_READ_ONLY_ROOT, task(containers=[GOOD_CONTAINER, sidecar]))
    assert "container 'otel'" in message


@pytest.mark.parametrize("name, value", [
    ("DB_PASSWORD", "hunter2hunter2"), ("STRIPE_API_KEY", UNKNOWN), ("AUTH_TOKEN", "abc"),
    ("SOME_ID", "AKIAABCDEFGHIJKLMNOP")])
def test_secret_looking_environment_variables_fail(name, value):
    container = dict(GOOD_CONTAINER, environment=[{"name": name, "value": value}])
    [message] = messages(CONTAINER_ENV_NO_SECRETS, task(containers=[container]))
    assert name in message


@pytest.mark.parametrize("spec", CONTAINER_SPECS, ids=lambda s: s.name)
def test_unknown_container_definitions_are_deferred_to_update(spec):
    unknown = task()
    unknown.props["containerDefinitions"] = UNKNOWN
    assert "unknown during preview" in not_judged(spec, unknown)


# --- ecs-deployment-rollback / ecs-canary-percent ----------------------------------------------------

def service(strategy=None, tags=None, provider_props=None, **props):
    if strategy:
        props.setdefault("deploymentConfiguration", {})["strategy"] = strategy
    if tags is not None:
        props["tags"] = tags
    return view("aws:ecs/service:Service", props, name="api",
                **({"provider_props": provider_props} if provider_props is not None else {}))


BREAKER = {"deploymentCircuitBreaker": {"enable": True, "rollback": True}}
ALARMS = {"alarms": {"enable": True, "rollback": True, "alarmNames": [UNKNOWN]}}


@pytest.mark.parametrize("strategy, props, expected", [
    (None, BREAKER, 0),
    ("ROLLING", {}, 1),
    ("ROLLING", {"deploymentCircuitBreaker": {"enable": True, "rollback": False}}, 1),
    ("CANARY", ALARMS, 0),
    ("CANARY", BREAKER, 1),            # the circuit breaker is not the rollback mechanism for canaries
    ("LINEAR", {"alarms": {"enable": True, "rollback": True, "alarmNames": []}}, 1),
    ("BLUE_GREEN", ALARMS, 0),
    (UNKNOWN, BREAKER, 1),
])
def test_deployment_rollback_mechanism_depends_on_strategy(strategy, props, expected):
    assert len(findings(ECS_DEPLOYMENT_ROLLBACK, service(strategy, **json.loads(json.dumps(props))))) == expected


def test_code_deploy_controller_is_not_judged_for_rollback():
    assert "outside ECS" in not_judged(ECS_DEPLOYMENT_ROLLBACK, service(deploymentController={"type": "CODE_DEPLOY"}))


@pytest.mark.parametrize("percent, expected", [(1.0, 0), (5.0, 0), (None, 0), (10.0, 1), (0.5, 1), (UNKNOWN, 1)])
def test_canary_percent_within_bounds(percent, expected):
    config = {"strategy": "CANARY"}
    if percent is not None:
        config["canaryConfiguration"] = {"canaryPercent": percent, "canaryBakeTimeInMinutes": "10"}
    assert len(findings(ECS_CANARY_PERCENT, service(deploymentConfiguration=config, **ALARMS))) == expected


def test_canary_bounds_are_configurable():
    canary = service(deploymentConfiguration={"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 10.0}})
    assert len(findings(ECS_CANARY_PERCENT, canary)) == 1
    assert findings(ECS_CANARY_PERCENT, canary, maxPercent=10) == []


# --- service-connect-tls-prod ------------------------------------------------------------------------

def connect(tls=True):
    entry = {"portName": "http", "clientAlias": [{"port": 80}]}
    if tls:
        entry["tls"] = {"issuerCertAuthority": {"awsPcaAuthorityArn": UNKNOWN}, "roleArn": UNKNOWN}
    return {"enabled": True, "namespace": "arn:ns", "services": [entry]}


@pytest.mark.parametrize("environment, tls, expected", [
    ("prod", True, 0), ("prod", False, 1), ("staging", False, 0)])
def test_service_connect_tls_required_in_prod(environment, tls, expected):
    prod_provider = provider(default_tags=dict(COST_TAGS, environment=environment))
    found = messages(SERVICE_CONNECT_TLS_PROD, service(provider_props=prod_provider,
                                                       serviceConnectConfiguration=connect(tls)))
    assert len(found) == expected
    if expected:
        assert "portName 'http'" in found[0] and "aws_pca_authority_arn" in found[0]


def test_service_connect_environment_from_own_tags_overrides_provider():
    record = service(tags={"environment": "prod"}, serviceConnectConfiguration=connect(False))  # provider: staging
    assert len(findings(SERVICE_CONNECT_TLS_PROD, record)) == 1


# --- ecs-no-public-ip --------------------------------------------------------------------------------

@pytest.mark.parametrize("assign, expected", [(False, 0), (None, 0), (True, 1), (UNKNOWN, 1)])
def test_ecs_service_public_ip(assign, expected):
    network = {"subnets": ["subnet-1"]} if assign is None else {"subnets": ["subnet-1"], "assignPublicIp": assign}
    assert len(findings(ECS_NO_PUBLIC_IP, service(networkConfiguration=network))) == expected
