"""ECS container definitions for one mesh service, in the ECS API's own camelCase shape.

Pure: takes plain values (the component resolves Outputs first) and returns the list that
`aws.ecs.TaskDefinition(container_definitions=json.dumps(...))` takes.

Image contract for application images (the platform cannot check it, so it is written down here):
  * `/bin/sh` and `curl` on the PATH, for the container health check, which runs inside the container.
  * Runs as the numeric user `1000:1000`; no file outside `/tmp` is written at run time (the root file
    system is read-only).
  * `/tmp` exists in the image, owned by 1000:1000, and is declared `VOLUME ["/tmp"]`: a Fargate bind
    mount is created root-owned 0755 unless the image's own directory (and its ownership) is copied in,
    which Fargate does for paths declared as VOLUME.
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/bind-mounts.html
  * Listens on the container port (>= 1024, as a non-root user) and answers 200 on the health path.
  * Honours `HTTP_CLIENT_TIMEOUT_SECONDS` and the `CLIENT_*` policy for outbound calls
    (components/mesh_service/client_policy.py), `SERVICE_REQUEST_TIMEOUT_SECONDS` for its own requests, and the
    standard OpenTelemetry variables.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from components.core.types import APP_PROTOCOLS, AppProtocol, Environment
from components.core.validation import ENV_KEY, IMAGE_URI, PRIVATE_ECR_IMAGE, timeout_problems
from components.mesh_service.client_policy import ClientPolicy, client_policy_problems
from components.mesh_service.protocol import container_health_command

if TYPE_CHECKING:
    import pulumi_aws.ecs as ecs

# A pinned ADOT collector release (aws-observability/aws-otel-collector v0.50.0, released 2026-08;
# PR #3233 "bump version to v0.50.0"). The image is built FROM scratch: no shell, no curl; it ships a
# `/healthcheck` binary that probes the collector's health_check extension on 127.0.0.1:13133.
#
# Where tasks pull it from: never from public.ecr.aws itself. The interface endpoints ecr.api/ecr.dkr
# serve the private registry only ("VPC endpoints currently don't support Amazon ECR Public
# repositories", ECR user guide, vpc-endpoints.html), so a task without NAT could not reach ECR Public.
# RegionalPlatform therefore owns an ECR pull-through cache rule for public.ecr.aws in its own region and
# hands services the cached URI (`regional_collector_image`), which is in the same private registry as
# the services' own images. Bumping the tag: see RegionalPlatform._collector_cache about the first pull.
ADOT_COLLECTOR_UPSTREAM_REGISTRY = "public.ecr.aws"
ADOT_COLLECTOR_UPSTREAM_REPOSITORY = "aws-observability/aws-otel-collector"
ADOT_COLLECTOR_TAG = "v0.50.0"
ADOT_COLLECTOR_UPSTREAM_IMAGE = f"{ADOT_COLLECTOR_UPSTREAM_REGISTRY}/{ADOT_COLLECTOR_UPSTREAM_REPOSITORY}:{ADOT_COLLECTOR_TAG}"
# Bundled config: OTLP receivers on 4317/4318 -> resourcedetection, batch -> awsxray exporter, with the
# health_check extension enabled (config/ecs/ecs-xray.yaml in the ADOT repository, copied to /etc/ecs/ in
# the image by cmd/awscollector/Dockerfile).
ADOT_COLLECTOR_CONFIG = "/etc/ecs/ecs-xray.yaml"
ADOT_COLLECTOR_CONTAINER_NAME = "aws-otel-collector"
ADOT_OTLP_HTTP_ENDPOINT = "http://127.0.0.1:4318"
# Ports the collector listens on inside the task's network namespace (awsvpc: shared by every container
# and the Service Connect proxy): OTLP gRPC, OTLP HTTP, health_check extension. Nothing else may bind them.
ADOT_COLLECTOR_PORTS = (4317, 4318, 13133)
# The image's own unprivileged user: cmd/awscollector/Dockerfile creates `aoc` with uid/gid 4317 and ends
# with `USER aoc`, HOME=/home/aoc. Stated numerically so ECS (and the policy pack) see a non-root user
# without a passwd lookup.
ADOT_COLLECTOR_USER = "4317:4317"
# Read-only root file system and the collector: ecs-xray.yaml has no file_storage extension or persistent
# sending queue, the awsxray exporter sends over HTTPS only, and with RUN_IN_CONTAINER=True (set by the
# image) the collector logs to stdout instead of /opt/aws/aws-otel-collector/logs (aws-otel-collector
# issues #369, #451). So it writes nothing and gets no volume: the task's scratch bind mount would be
# root-owned 0755 for it anyway (the image declares no VOLUME, see the image contract above), i.e. not
# writable by uid 4317.

APP_USER = "1000:1000"
# Seconds ECS waits after SIGTERM before SIGKILL: room to drain in-flight requests after the target is
# deregistered (the target groups' deregistration delay is 30 s as well).
STOP_TIMEOUT_SECONDS = 30
SERVICE_CONNECT_PORT_NAME = "http"
SCRATCH_VOLUME_NAME = "scratch-tmp"
SCRATCH_MOUNT_PATH = "/tmp"

# Container health check limits: interval 5-300 s, timeout 2-60 s, retries 1-10, startPeriod 0-300 s
# (AWS ECS HealthCheck parameter documentation, as published in the CDK reference for ecs.HealthCheck).
HEALTH_CHECK_INTERVAL = 15
HEALTH_CHECK_TIMEOUT = 5
HEALTH_CHECK_RETRIES = 3
HEALTH_CHECK_START_PERIOD = 30

_SECRETS_MANAGER_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$")
_SSM_PARAMETER_ARN = re.compile(r"^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter/.+$")


class ContainerDefinitionError(ValueError):
    """The inputs cannot make a safe, valid container definition."""


@dataclass(frozen=True)
class AppContainerSpec:
    """Everything the container definitions are built from. No defaults: the product's values come from
    foundation/settings.py, the sizes from sizing.py, the images from the regional platform."""

    service: str
    environment: Environment
    region: str
    image: str
    container_port: int
    health_path: str
    cpu: int
    memory: int
    log_group_name: str
    # Env var name -> Secrets Manager secret ARN or SSM parameter ARN (resolved by ECS at task start).
    secrets: Mapping[str, str]
    tracing_enabled: bool
    trace_sampling_ratio: float
    http_client_timeout_seconds: int
    service_connect_per_request_timeout_seconds: int
    # The collector image in this region's private registry (pull-through cache); None without tracing.
    collector_image: str | None
    sidecar_cpu: int
    sidecar_memory: int
    # What the app speaks on its port (Service Connect appProtocol) and how it calls others.
    protocol: AppProtocol
    client: ClientPolicy


def validate_image_uri(image: str) -> None:
    if not IMAGE_URI.match(image):
        raise ContainerDefinitionError(
            f"image {image!r} must be a full image URI with a tag or an @sha256 digest "
            "(registry/repository:tag or registry/repository@sha256:<64 hex>)"
        )
    if image.endswith(":latest"):
        raise ContainerDefinitionError(f"image {image!r}: the mutable 'latest' tag is not deployable")


def validate_regional_registry(image: str, region: str) -> None:
    """The image must come from the private ECR registry of the task's own region (see validation.PRIVATE_ECR_IMAGE)."""
    match = PRIVATE_ECR_IMAGE.match(image)
    if not match or match["region"] != region:
        raise ContainerDefinitionError(
            f"image {image!r} is not in the private ECR registry of {region}: tasks reach only that registry "
            "through the VPC's ecr.api/ecr.dkr endpoints (public registries go through a pull-through cache rule)")


def regional_collector_image(account_id: str, region: str, cache_prefix: str) -> str:
    """The ADOT collector as a pull-through cache rule with `cache_prefix` serves it in this region:
    `<account>.dkr.ecr.<region>.amazonaws.com/<prefix>/<upstream repository path>:<tag>` (ECR user guide,
    pull-through-cache-working.html: `.../ecr-public/repository_name/image_name:tag` for the console's
    default prefix `ecr-public`)."""
    return f"{account_id}.dkr.ecr.{region}.amazonaws.com/{cache_prefix}/{ADOT_COLLECTOR_UPSTREAM_REPOSITORY}:{ADOT_COLLECTOR_TAG}"


def validate_secret_reference(env_name: str, value_from: str) -> None:
    if not ENV_KEY.match(env_name):
        raise ContainerDefinitionError(f"secret env var name {env_name!r} must match {ENV_KEY.pattern}")
    if not (_SECRETS_MANAGER_ARN.fullmatch(value_from) or _SSM_PARAMETER_ARN.fullmatch(value_from)):
        raise ContainerDefinitionError(
            f"secret {env_name!r} must reference a Secrets Manager secret ARN or an SSM parameter ARN, "
            f"got {value_from!r}"
        )


def _awslogs(spec: AppContainerSpec, stream_prefix: str) -> dict[str, Any]:
    return {
        "logDriver": "awslogs",
        "options": {
            "awslogs-group": spec.log_group_name,
            "awslogs-region": spec.region,
            "awslogs-stream-prefix": stream_prefix,
            # A full log buffer must not block the app's stdout writes (and so its request threads).
            "mode": "non-blocking",
            "max-buffer-size": "25m",
        },
    }


def _health_check_command(spec: AppContainerSpec) -> list[str]:
    return container_health_command(spec.protocol, spec.container_port, spec.health_path, HEALTH_CHECK_TIMEOUT - 1)


def _otel_environment(spec: AppContainerSpec) -> dict[str, str]:
    env = {
        "OTEL_SERVICE_NAME": spec.service,
        "OTEL_RESOURCE_ATTRIBUTES": f"deployment.environment.name={spec.environment}",
        # W3C trace context end to end; the proxy forwards these headers untouched.
        "OTEL_PROPAGATORS": "tracecontext,baggage",
        # Respect the caller's sampling decision; sample new roots at the environment's ratio.
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": repr(float(spec.trace_sampling_ratio)),
    }
    if spec.tracing_enabled:
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = ADOT_OTLP_HTTP_ENDPOINT
        env["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf"
    else:
        # No collector in the task: keep propagating context, export nothing.
        env["OTEL_TRACES_EXPORTER"] = "none"
    return env


def app_container_definition(spec: AppContainerSpec) -> dict[str, Any]:
    validate_image_uri(spec.image)
    validate_regional_registry(spec.image, spec.region)
    if not 1024 <= spec.container_port <= 65535:
        raise ContainerDefinitionError(
            f"container port {spec.container_port}: a non-root app needs a port in 1024-65535"
        )
    if spec.tracing_enabled and spec.container_port in ADOT_COLLECTOR_PORTS:
        raise ContainerDefinitionError(
            f"container port {spec.container_port} is taken by the tracing collector {ADOT_COLLECTOR_PORTS}: "
            "all containers of an awsvpc task share one network namespace"
        )
    if not spec.health_path.startswith("/") or any(c in spec.health_path for c in " '\"`$;&|<>\\"):
        raise ContainerDefinitionError(f"health path {spec.health_path!r} must be a plain absolute URL path")
    if not 0.0 <= spec.trace_sampling_ratio <= 1.0:
        raise ContainerDefinitionError(f"trace sampling ratio {spec.trace_sampling_ratio} must be within 0..1")
    # Only the client/per-request pair reaches the container; the idle timeout is the proxy's (0: not checked).
    problems = timeout_problems(spec.http_client_timeout_seconds, spec.service_connect_per_request_timeout_seconds, 0)
    if problems:
        raise ContainerDefinitionError("; ".join(problems))
    if spec.protocol not in APP_PROTOCOLS:
        raise ContainerDefinitionError(f"protocol {spec.protocol!r} must be one of {APP_PROTOCOLS} (appProtocol)")
    problems = client_policy_problems(spec.client, spec.http_client_timeout_seconds)
    if problems:
        raise ContainerDefinitionError("; ".join(problems))
    for env_name, value_from in spec.secrets.items():
        validate_secret_reference(env_name, value_from)

    environment = {
        **_otel_environment(spec),
        # The client's timeouts nest: per try < HTTP_CLIENT_TIMEOUT_SECONDS < this service's own request
        # timeout (the Service Connect per-request timeout, SERVICE_REQUEST_TIMEOUT_SECONDS).
        **spec.client.environment(spec.http_client_timeout_seconds, spec.service_connect_per_request_timeout_seconds),
        "PORT": str(spec.container_port),
    }
    clashes = sorted(set(environment) & set(spec.secrets))
    if clashes:
        raise ContainerDefinitionError(f"secrets {clashes} clash with platform-set environment variables")

    definition: dict[str, Any] = {
        "name": spec.service,
        "image": spec.image,
        "essential": True,
        "cpu": spec.cpu,
        "memory": spec.memory,
        "user": APP_USER,
        "readonlyRootFilesystem": True,
        "mountPoints": [{"sourceVolume": SCRATCH_VOLUME_NAME, "containerPath": SCRATCH_MOUNT_PATH, "readOnly": False}],
        "portMappings": [{
            "name": SERVICE_CONNECT_PORT_NAME,
            "containerPort": spec.container_port,
            "protocol": "tcp",
            "appProtocol": spec.protocol,
        }],
        "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
        "secrets": [{"name": k, "valueFrom": v} for k, v in sorted(spec.secrets.items())],
        "healthCheck": {
            "command": _health_check_command(spec),
            "interval": HEALTH_CHECK_INTERVAL,
            "timeout": HEALTH_CHECK_TIMEOUT,
            "retries": HEALTH_CHECK_RETRIES,
            "startPeriod": HEALTH_CHECK_START_PERIOD,
        },
        "linuxParameters": {"initProcessEnabled": True, "capabilities": {"drop": ["ALL"]}},
        "stopTimeout": STOP_TIMEOUT_SECONDS,
        "logConfiguration": _awslogs(spec, "app"),
    }
    if spec.tracing_enabled:
        # Spans emitted during start-up need a running collector to land on.
        definition["dependsOn"] = [{"containerName": ADOT_COLLECTOR_CONTAINER_NAME, "condition": "START"}]
    return definition


def tracing_sidecar_definition(spec: AppContainerSpec) -> dict[str, Any]:
    if not spec.collector_image:
        raise ContainerDefinitionError("tracing needs the collector image of the regional pull-through cache")
    validate_image_uri(spec.collector_image)
    validate_regional_registry(spec.collector_image, spec.region)
    return {
        "name": ADOT_COLLECTOR_CONTAINER_NAME,
        "image": spec.collector_image,
        # Losing traces must never take the service down.
        "essential": False,
        "cpu": spec.sidecar_cpu,
        "memory": spec.sidecar_memory,
        "command": [f"--config={ADOT_COLLECTOR_CONFIG}"],
        "user": ADOT_COLLECTOR_USER,
        "readonlyRootFilesystem": True,
        "healthCheck": {
            "command": ["CMD", "/healthcheck"],
            "interval": HEALTH_CHECK_INTERVAL,
            "timeout": HEALTH_CHECK_TIMEOUT,
            "retries": HEALTH_CHECK_RETRIES,
            "startPeriod": 10,
        },
        "linuxParameters": {"initProcessEnabled": True, "capabilities": {"drop": ["ALL"]}},
        "logConfiguration": _awslogs(spec, "otel-collector"),
    }


def container_definitions(spec: AppContainerSpec) -> list[dict[str, Any]]:
    definitions = [app_container_definition(spec)]
    if spec.tracing_enabled:
        if spec.sidecar_cpu <= 0 or spec.sidecar_memory <= 0:
            raise ContainerDefinitionError("the tracing sidecar needs a cpu and memory reservation (see sizing.py)")
        definitions.append(tracing_sidecar_definition(spec))
    return definitions


def task_volumes() -> list[ecs.TaskDefinitionVolumeArgsDict]:
    """Task-level volumes: one Fargate bind mount (task ephemeral storage) for the app's /tmp.

    A volume with only a name has the same shape in Pulumi's `volumes` argument and in the ECS API.
    """
    return [{"name": SCRATCH_VOLUME_NAME}]
