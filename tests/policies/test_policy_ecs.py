"""Task size, container hardening, deployment rollback, canary bounds, Service Connect TLS, public IPs."""

from __future__ import annotations

import json

import pytest
from views import COST_TAGS, UNKNOWN, findings, messages, not_judged, provider, view

from policies.ecs_containers import CONTAINER_NON_ROOT_USER, CONTAINER_READ_ONLY_ROOT
from policies.ecs_deployments import ECS_CANARY_PERCENT, ECS_DEPLOYMENT_ROLLBACK
from policies.ecs_network import ECS_NO_PUBLIC_IP
from policies.ecs_service_connect import SERVICE_CONNECT_TLS_PROD
from policies.ecs_task_size import FARGATE_TASK_SIZE
from policies.environment_secrets import CONTAINER_ENV_NO_SECRETS
from policies.log_groups import CONTAINER_LOG_GROUP_MANAGED

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


@pytest.mark.parametrize("user", [None, "root", "0", "0:0", "00:1000"])
def test_root_or_missing_user_fails(user):
    container = dict(GOOD_CONTAINER, user=user) if user else {k: v for k, v in GOOD_CONTAINER.items() if k != "user"}
    [message] = messages(CONTAINER_NON_ROOT_USER, task(containers=[container]))
    assert "container 'app'" in message


def test_an_unknown_read_only_flag_is_reported_as_unverifiable():
    [message] = messages(CONTAINER_READ_ONLY_ROOT, task(containers=[dict(GOOD_CONTAINER, readonlyRootFilesystem=UNKNOWN)]))
    assert "readonlyRootFilesystem unknown during preview" in message


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


@pytest.mark.parametrize("value", [
    "postgres://orders:hunter2@db.internal:5432/orders",
    "redis://:hunter2@cache.internal:6379/0",
    '{"db": {"host": "db.internal", "password": "hunter2"}}',
    "Server=db;Database=orders;User Id=app;Password=hunter2;",
    "jdbc:mysql://db/orders?user=app&password=hunter2",
    "ASIAABCDEFGHIJKLMNOP",
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn...",
    "Bearer 0123456789abcdefABCDEF0123",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "sk_live_0123456789abcdefghij",
])
def test_credentials_under_innocent_names_are_found_by_their_value(value):
    container = dict(GOOD_CONTAINER, environment=[{"name": "UPSTREAM", "value": value}])
    [message] = messages(CONTAINER_ENV_NO_SECRETS, task(containers=[container]))
    assert "'UPSTREAM'" in message and "looks like a credential" in message


@pytest.mark.parametrize("value", [
    "postgres://db.internal:5432/orders", "postgres://orders@db.internal/orders",
    "postgres://orders:${DB_PASSWORD}@db.internal/orders", "https://auth.example.com/token?client=orders",
    "Server=db;Database=orders;Integrated Security=true", "info", '{"password": "${DB_PASSWORD}"}',
])
def test_values_without_a_credential_pass(value):
    container = dict(GOOD_CONTAINER, environment=[{"name": "UPSTREAM", "value": value}])
    assert findings(CONTAINER_ENV_NO_SECRETS, task(containers=[container])) == []


def test_a_name_that_says_it_holds_an_arn_must_hold_one():
    container = dict(GOOD_CONTAINER, environment=[{"name": "DB_PASSWORD_ARN", "value": "hunter2"}])
    assert len(findings(CONTAINER_ENV_NO_SECRETS, task(containers=[container]))) == 1
    container = dict(GOOD_CONTAINER, environment=[{"name": "DB_PASSWORD_ARN",
                                                   "value": "arn:aws:secretsmanager:eu-central-1:1:secret:db"}])
    assert findings(CONTAINER_ENV_NO_SECRETS, task(containers=[container])) == []


def test_lambda_function_environment_is_judged_too():
    function = view("aws:lambda/function:Function", {"environment": {"variables": {
        "DATABASE_URL": "mysql://app:hunter2@db/orders", "LOG_LEVEL": "info"}}})
    [message] = messages(CONTAINER_ENV_NO_SECRETS, function)
    assert "the function passes environment variable 'DATABASE_URL'" in message
    function.props["environment"]["variables"]["DATABASE_URL"] = "mysql://db/orders"
    assert findings(CONTAINER_ENV_NO_SECRETS, function) == []


def test_an_unknown_value_under_an_innocent_name_is_deferred_not_passed():
    container = dict(GOOD_CONTAINER, environment=[{"name": "DATABASE_URL", "value": UNKNOWN}])
    assert "'DATABASE_URL' is unknown during preview" in not_judged(CONTAINER_ENV_NO_SECRETS, task(containers=[container]))


def test_an_unknown_user_is_deferred_not_passed():
    container = dict(GOOD_CONTAINER, user=UNKNOWN)
    assert "user unknown during preview" in not_judged(CONTAINER_NON_ROOT_USER, task(containers=[container]))


# --- container-log-group-managed ---------------------------------------------------------------------

def logging(**options):
    return {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/prod/orders", "awslogs-region": "eu-central-1",
                                                "awslogs-stream-prefix": "app", **options}}


@pytest.mark.parametrize("create", ["true", "True", True])
def test_log_groups_created_by_the_log_driver_are_refused(create):
    container = dict(GOOD_CONTAINER, logConfiguration=logging(**{"awslogs-create-group": create}))
    [message] = messages(CONTAINER_LOG_GROUP_MANAGED, task(containers=[container]))
    assert "container 'app' sets awslogs-create-group" in message


def test_firelens_creating_its_log_group_is_refused_too():
    firelens = {"logDriver": "awsfirelens", "options": {"Name": "cloudwatch_logs", "log_group_name": "/ecs/x",
                                                         "auto_create_group": "true"}}
    [message] = messages(CONTAINER_LOG_GROUP_MANAGED, task(containers=[dict(GOOD_CONTAINER, logConfiguration=firelens)]))
    assert "sets auto_create_group" in message


@pytest.mark.parametrize("log_configuration", [logging(), logging(**{"awslogs-create-group": "false"}),
                                               {"logDriver": "awsfirelens", "options": {"Name": "cloudwatch"}}])
def test_containers_logging_to_a_managed_group_pass(log_configuration):
    container = dict(GOOD_CONTAINER, logConfiguration=log_configuration)
    assert findings(CONTAINER_LOG_GROUP_MANAGED, task(containers=[container])) == []


def test_an_unknown_log_configuration_is_deferred():
    container = dict(GOOD_CONTAINER, logConfiguration=logging(**{"awslogs-create-group": UNKNOWN}))
    assert "logConfiguration unknown" in not_judged(CONTAINER_LOG_GROUP_MANAGED, task(containers=[container]))


@pytest.mark.parametrize("spec", CONTAINER_SPECS + (CONTAINER_LOG_GROUP_MANAGED,), ids=lambda s: s.name)
def test_unknown_container_definitions_are_deferred_to_update(spec):
    unknown = task()
    unknown.props["containerDefinitions"] = UNKNOWN
    assert "unknown during preview" in not_judged(spec, unknown)


# --- ecs-deployment-rollback / ecs-canary-percent ----------------------------------------------------

def service(strategy=None, tags=None, provider_props=None, stack="test", **props):
    if strategy:
        props.setdefault("deploymentConfiguration", {})["strategy"] = strategy
    if tags is not None:
        props["tags"] = tags
    return view("aws:ecs/service:Service", props, name="api", stack=stack,
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


@pytest.mark.parametrize("names", [[""], [" ", "  "], ["", "prod-orders-5xx"]])
def test_rollback_alarm_lists_holding_blank_names_fail(names):
    alarms = {"alarms": {"enable": True, "rollback": True, "alarmNames": names}}
    [message] = messages(ECS_DEPLOYMENT_ROLLBACK, service("CANARY", **alarms))
    assert "blank, which name no alarm" in message


def test_rollback_alarm_list_with_real_names_passes_and_unknown_names_are_deferred():
    known = {"alarms": {"enable": True, "rollback": True, "alarmNames": ["prod-orders-5xx"]}}
    assert findings(ECS_DEPLOYMENT_ROLLBACK, service("BLUE_GREEN", **known)) == []
    assert "alarmNames are unknown" in not_judged(ECS_DEPLOYMENT_ROLLBACK, service("BLUE_GREEN", **ALARMS))


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


KNOWN_CA = {"enabled": True, "namespace": "arn:ns", "services": [{"portName": "http", "tls": {
    "issuerCertAuthority": {"awsPcaAuthorityArn": "arn:aws:acm-pca:eu-central-1:1:certificate-authority/x"}}}]}


@pytest.mark.parametrize("stack, connection, expected", [
    ("prod", KNOWN_CA, 0), ("prod", connect(False), 1), ("prod-euw1", connect(False), 1),
    ("staging", connect(False), 0), ("staging-euw1", connect(False), 0)])
def test_service_connect_tls_required_in_prod_stacks(stack, connection, expected):
    found = messages(SERVICE_CONNECT_TLS_PROD, service(stack=stack, serviceConnectConfiguration=connection))
    assert len(found) == expected
    if expected:
        assert "portName 'http'" in found[0] and "aws_pca_authority_arn" in found[0]


def test_the_environment_comes_from_the_stack_not_from_a_tag():
    staging_tags = provider(default_tags=dict(COST_TAGS, environment="staging"))
    tagged_staging = service(stack="prod", tags={"environment": "staging"}, provider_props=staging_tags,
                             serviceConnectConfiguration=connect(False))
    assert len(findings(SERVICE_CONNECT_TLS_PROD, tagged_staging)) == 1
    tagged_prod = service(stack="staging", tags={"environment": "prod"}, serviceConnectConfiguration=connect(False))
    assert findings(SERVICE_CONNECT_TLS_PROD, tagged_prod) == []


def test_a_stack_the_environment_map_does_not_name_is_held_to_production_rules():
    [message] = messages(SERVICE_CONNECT_TLS_PROD, service(stack="production", serviceConnectConfiguration=connect(False)))
    assert "stack 'production' (no stackEnvironments entry" in message
    renamed = [{"stack": "production", "environment": "prod"}]
    assert len(findings(SERVICE_CONNECT_TLS_PROD, service(stack="production", serviceConnectConfiguration=connect(False)),
                        stackEnvironments=renamed)) == 1


def test_an_unknown_ca_arn_in_prod_is_deferred():
    assert "TLS CA is unknown" in not_judged(SERVICE_CONNECT_TLS_PROD, service(stack="prod",
                                                                               serviceConnectConfiguration=connect(True)))


# --- ecs-no-public-ip --------------------------------------------------------------------------------

@pytest.mark.parametrize("assign, expected", [(False, 0), (None, 0), (True, 1), (UNKNOWN, 1)])
def test_ecs_service_public_ip(assign, expected):
    network = {"subnets": ["subnet-1"]} if assign is None else {"subnets": ["subnet-1"], "assignPublicIp": assign}
    assert len(findings(ECS_NO_PUBLIC_IP, service(networkConfiguration=network))) == expected
