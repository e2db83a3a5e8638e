import json
import re

import pytest

from components.mesh_service.client_policy import ClientPolicy
from components.mesh_service.container_definitions import (
    ADOT_COLLECTOR_CONTAINER_NAME,
    ADOT_COLLECTOR_PORTS,
    ADOT_COLLECTOR_TAG,
    ADOT_COLLECTOR_UPSTREAM_IMAGE,
    SCRATCH_MOUNT_PATH,
    AppContainerSpec,
    ContainerDefinitionError,
    container_definitions,
    regional_collector_image,
    task_volumes,
)
from components.mesh_service.sizing import task_size
from tests.ecs_api import register_task_definition_problems

SECRET_ARN = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:prod/auth/db-AbCdEf"
PARAMETER_ARN = "arn:aws:ssm:eu-central-1:123456789012:parameter/prod/auth/LOG_LEVEL"
COLLECTOR = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/prod-ecr-public/aws-observability/aws-otel-collector:v0.50.0"


def make_spec(**overrides) -> AppContainerSpec:
    size = task_size("auth", 512, 1024, tracing_sidecar=overrides.get("tracing_enabled", True))
    values = dict(
        service="auth",
        environment="prod",
        region="eu-central-1",
        image="123456789012.dkr.ecr.eu-central-1.amazonaws.com/auth:1.4.2",
        container_port=8080,
        health_path="/health",
        cpu=size.app_cpu_limit,
        memory=size.app_memory_limit,
        log_group_name="/ecs/prod/auth",
        secrets={"DATABASE_URL": SECRET_ARN, "LOG_LEVEL": PARAMETER_ARN},
        tracing_enabled=True,
        trace_sampling_ratio=0.1,
        http_client_timeout_seconds=2,
        service_connect_per_request_timeout_seconds=3,
        collector_image=COLLECTOR,
        sidecar_cpu=size.sidecar_cpu,
        sidecar_memory=size.sidecar_memory,
        protocol="http",
        client=ClientPolicy(),
    )
    values.update(overrides)
    return AppContainerSpec(**values), size


def register_request(definitions, size, architecture="ARM64") -> dict:
    return {
        "family": "prod-auth",
        "cpu": str(size.task_cpu),
        "memory": str(size.task_memory),
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "runtimePlatform": {"cpuArchitecture": architecture, "operatingSystemFamily": "LINUX"},
        "executionRoleArn": "arn:aws:iam::123456789012:role/prod-auth-execution",
        "taskRoleArn": "arn:aws:iam::123456789012:role/prod-auth-task",
        "volumes": task_volumes(),
        # The Pulumi argument is a JSON string: validate what survives that round trip.
        "containerDefinitions": json.loads(json.dumps(definitions)),
    }


@pytest.mark.parametrize("tracing", [True, False])
@pytest.mark.parametrize("architecture", ["ARM64", "X86_64"])
def test_register_task_definition_request_is_valid_for_the_ecs_api(tracing, architecture):
    spec, size = make_spec(tracing_enabled=tracing)
    definitions = container_definitions(spec)
    request = register_request(definitions, size, architecture)

    assert register_task_definition_problems(request) == []


def test_the_ecs_api_check_catches_enum_range_and_type_errors():
    spec, size = make_spec()
    definitions = container_definitions(spec)
    definitions[0]["healthCheck"]["interval"] = 500
    request = register_request(definitions, size) | {"networkMode": "overlay", "cpu": 1024}
    problems = "\n".join(register_task_definition_problems(request))
    assert "networkMode='overlay' not in" in problems
    assert "healthCheck.interval=500 outside [5, 300]" in problems
    assert "Invalid type for parameter cpu" in problems


def test_container_limits_are_lower_than_the_task_size_so_the_proxy_fits():
    spec, size = make_spec()
    definitions = container_definitions(spec)
    assert sum(d["memory"] for d in definitions) < size.task_memory
    assert sum(d["cpu"] for d in definitions) < size.task_cpu


def test_app_port_mapping_is_named_for_service_connect_with_http_protocol():
    spec, _ = make_spec()
    app = container_definitions(spec)[0]
    assert app["portMappings"] == [{"name": "http", "containerPort": 8080, "protocol": "tcp", "appProtocol": "http"}]


def test_secrets_are_references_and_never_appear_in_the_environment():
    spec, _ = make_spec()
    app = container_definitions(spec)[0]
    assert {s["name"]: s["valueFrom"] for s in app["secrets"]} == {"DATABASE_URL": SECRET_ARN, "LOG_LEVEL": PARAMETER_ARN}
    environment_text = json.dumps(app["environment"])
    assert "DATABASE_URL" not in environment_text and "arn:aws:" not in environment_text


def test_secret_reference_must_be_a_secrets_manager_or_ssm_arn():
    spec, _ = make_spec(secrets={"DATABASE_URL": "postgres://user:pw@db/auth"})
    with pytest.raises(ContainerDefinitionError, match="Secrets Manager secret ARN or an SSM parameter ARN"):
        container_definitions(spec)


def test_app_runs_non_root_on_a_read_only_root_with_a_writable_tmp():
    spec, _ = make_spec()
    app = container_definitions(spec)[0]
    assert app["user"] == "1000:1000"
    assert app["readonlyRootFilesystem"] is True
    (mount,) = app["mountPoints"]
    assert mount["containerPath"] == SCRATCH_MOUNT_PATH and mount["readOnly"] is False
    assert mount["sourceVolume"] in {v["name"] for v in task_volumes()}


def test_health_check_probes_the_health_path_with_curl_inside_the_image():
    spec, _ = make_spec(health_path="/ready")
    assert container_definitions(spec)[0]["healthCheck"]["command"] == [
        "CMD-SHELL", "curl -fsS --max-time 4 -o /dev/null http://127.0.0.1:8080/ready || exit 1"]


def test_awslogs_go_to_the_service_log_group_with_region_and_prefix():
    spec, _ = make_spec()
    for definition in container_definitions(spec):
        options = definition["logConfiguration"]["options"]
        assert options["awslogs-group"] == "/ecs/prod/auth"
        assert options["awslogs-region"] == "eu-central-1"
        assert options["awslogs-stream-prefix"]


def env_of(definition) -> dict:
    return {e["name"]: e["value"] for e in definition["environment"]}


def test_opentelemetry_propagates_w3c_context_and_samples_at_the_given_ratio():
    prod, _ = make_spec(trace_sampling_ratio=0.1)
    staging, _ = make_spec(environment="staging", trace_sampling_ratio=1.0)
    prod_env, staging_env = env_of(container_definitions(prod)[0]), env_of(container_definitions(staging)[0])
    assert prod_env["OTEL_PROPAGATORS"] == "tracecontext,baggage"
    assert prod_env["OTEL_TRACES_SAMPLER"] == "parentbased_traceidratio"
    assert (prod_env["OTEL_TRACES_SAMPLER_ARG"], staging_env["OTEL_TRACES_SAMPLER_ARG"]) == ("0.1", "1.0")
    assert prod_env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:4318"


def test_without_tracing_there_is_no_sidecar_and_nothing_is_exported():
    spec, _ = make_spec(tracing_enabled=False, sidecar_cpu=0, sidecar_memory=0, collector_image=None)
    definitions = container_definitions(spec)
    assert [d["name"] for d in definitions] == ["auth"]
    env = env_of(definitions[0])
    assert env["OTEL_TRACES_EXPORTER"] == "none" and "OTEL_EXPORTER_OTLP_ENDPOINT" not in env
    assert "dependsOn" not in definitions[0]


def test_app_port_must_not_be_one_the_tracing_collector_listens_on():
    spec, _ = make_spec(container_port=ADOT_COLLECTOR_PORTS[1])
    with pytest.raises(ContainerDefinitionError, match="taken by the tracing collector"):
        container_definitions(spec)
    untraced, _ = make_spec(container_port=ADOT_COLLECTOR_PORTS[1], tracing_enabled=False, sidecar_cpu=0, sidecar_memory=0)
    assert container_definitions(untraced)[0]["portMappings"][0]["containerPort"] == 4318


def test_client_timeout_must_be_lower_than_the_service_connect_per_request_timeout():
    spec, _ = make_spec(http_client_timeout_seconds=15, service_connect_per_request_timeout_seconds=15)
    with pytest.raises(ContainerDefinitionError, match="lower than the Service Connect per-request timeout"):
        container_definitions(spec)
    ok, _ = make_spec(http_client_timeout_seconds=14, service_connect_per_request_timeout_seconds=15)
    assert env_of(container_definitions(ok)[0])["HTTP_CLIENT_TIMEOUT_SECONDS"] == "14"


def test_tracing_sidecar_is_a_pinned_non_essential_hardened_adot_collector():
    spec, _ = make_spec()
    sidecar = container_definitions(spec)[1]
    assert sidecar["name"] == ADOT_COLLECTOR_CONTAINER_NAME
    assert re.fullmatch(r"public\.ecr\.aws/aws-observability/aws-otel-collector:v\d+\.\d+\.\d+",
                        ADOT_COLLECTOR_UPSTREAM_IMAGE)
    # The pinned release, from this region's pull-through cache rather than from ECR Public.
    assert sidecar["image"] == COLLECTOR and sidecar["image"].endswith(f":{ADOT_COLLECTOR_TAG}")
    assert sidecar["essential"] is False
    assert sidecar["readonlyRootFilesystem"] is True
    # The image's own `aoc` user (uid/gid 4317), which owns its HOME; the collector writes nothing, so no mount.
    assert sidecar["user"] == "4317:4317"
    assert "mountPoints" not in sidecar
    assert sidecar["healthCheck"]["command"] == ["CMD", "/healthcheck"]
    assert sidecar["command"] == ["--config=/etc/ecs/ecs-xray.yaml"]


@pytest.mark.parametrize("image", [
    "auth",
    "123456789012.dkr.ecr.eu-central-1.amazonaws.com/auth",
    "123456789012.dkr.ecr.eu-central-1.amazonaws.com/auth:latest",
    "123456789012.dkr.ecr.eu-central-1.amazonaws.com/auth@sha256:abc",
])
def test_image_must_be_a_full_uri_pinned_by_tag_or_digest(image):
    spec, _ = make_spec(image=image)
    with pytest.raises(ContainerDefinitionError):
        container_definitions(spec)


def test_image_pinned_by_digest_is_accepted():
    digest = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/auth@sha256:" + "a" * 64
    spec, _ = make_spec(image=digest)
    assert container_definitions(spec)[0]["image"] == digest


def test_the_collector_is_served_under_the_cache_prefix_with_its_upstream_repository_path():
    assert regional_collector_image("123456789012", "eu-west-1", "staging-ecr-public") == (
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/staging-ecr-public/aws-observability/aws-otel-collector:"
        + ADOT_COLLECTOR_TAG)


@pytest.mark.parametrize("overrides", [
    dict(collector_image=ADOT_COLLECTOR_UPSTREAM_IMAGE),
    dict(collector_image=COLLECTOR.replace("eu-central-1", "eu-west-1")),
    dict(collector_image=None),
    dict(image="ghcr.io/acme/auth:1.4.2"),
    dict(image="123456789012.dkr.ecr.eu-west-1.amazonaws.com/prod/auth:1.4.2"),
])
def test_every_image_must_come_from_the_private_registry_of_the_tasks_region(overrides):
    # Only that registry is reachable through the VPC's ecr.api/ecr.dkr endpoints when there is no NAT.
    spec, _ = make_spec(**overrides)
    with pytest.raises(ContainerDefinitionError):
        container_definitions(spec)
