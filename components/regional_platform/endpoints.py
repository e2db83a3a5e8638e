"""Which VPC endpoints a region needs, derived from its NAT strategy and the features in use.

Tasks in private subnets reach AWS APIs either through a NAT gateway or through endpoints. The five
baseline interface endpoints are always created (image pulls, logs, config and secrets stay on the AWS
network and skip NAT data charges); without a NAT gateway every other API a task needs must get an
endpoint too, or the task cannot start.

Images: every image a task pulls is in the region's private ECR registry (the services' repositories and
the pull-through cache the ADOT collector comes from, see RegionalPlatform._collector_cache), which the
ecr.api/ecr.dkr endpoints and the S3 gateway serve. There is no VPC endpoint for ECR Public, so no task
image may name public.ecr.aws (container_definitions.validate_regional_registry refuses it). One gap
endpoints cannot close: AWS documents that the *first* pull of an image through a pull-through cache rule
over an interface endpoint needs a NAT route; without NAT that first pull is done once from outside the VPC.
"""

from __future__ import annotations

# Always: pulling images (ecr.api, ecr.dkr, plus the S3 gateway for layers), awslogs, SSM parameters
# and Secrets Manager secrets referenced by task definitions.
BASELINE_INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "logs", "ssm", "secretsmanager")

# Without NAT: Service Connect's proxy is managed through ecs-agent; AWS asks for ecs-agent,
# ecs-telemetry and ecs together ("If you do not configure all of the endpoints, your traffic will go
# over the public endpoints"), https://docs.aws.amazon.com/AmazonECS/latest/developerguide/vpc-endpoints.html
SERVICE_CONNECT_ENDPOINTS = ("ecs-agent", "ecs-telemetry", "ecs")
# Without NAT: the ADOT collector's awsxray exporter calls xray.<region>.amazonaws.com.
TRACING_ENDPOINTS = ("xray",)

GATEWAY_ENDPOINTS = ("s3",)


def interface_endpoint_services(nat_strategy: str, service_connect: bool, tracing: bool) -> tuple[str, ...]:
    """Short service names (`ecr.api`, ...) of the interface endpoints this region needs."""
    services = list(BASELINE_INTERFACE_ENDPOINTS)
    if nat_strategy == "none":
        if service_connect:
            services += SERVICE_CONNECT_ENDPOINTS
        if tracing:
            services += TRACING_ENDPOINTS
    return tuple(services)


def endpoint_service_name(region: str, service: str) -> str:
    return f"com.amazonaws.{region}.{service}"
