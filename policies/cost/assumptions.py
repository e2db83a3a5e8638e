"""Usage assumptions: the part of a monthly bill that no resource declares.

A resource says how big it is (a task size, a NAT gateway, an endpoint in two AZs); how much it
is used (GB through the NAT, LCUs, log volume, requests) is an assumption. Every such figure
lives here, with a default for a quiet staging stack, and can be overridden per stack
(config key ``costAssumptions``, camelCase names as below). docs/cost-model.md explains each.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

# ECS Service Connect TLS certificates "rotate every five days" (AWS containers blog, see
# docs/cost-model.md): 730 h / 120 h per certificate, per service.
TLS_CERTIFICATES_PER_SERVICE_MONTH = 730 / 120


class UsageAssumptions(BaseModel):
    """Monthly usage per stack. Counts are per month; ``*Fraction`` values are 0-1."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)

    average_task_fraction: float = Field(
        default=0.25, ge=0, le=1,
        description="Average running tasks sit this far between the scaling target's min and max (0 = min)")
    nat_gb_per_month: float = Field(default=50, ge=0, description="GB processed by all NAT gateways of the stack")
    interface_endpoint_gb_per_month: float = Field(default=2, ge=0, description="GB through each interface endpoint")
    alb_lcu: float = Field(default=1, ge=0, description="Average LCUs per application load balancer")
    log_gb_per_service: float = Field(default=3, ge=0, description="GB ingested per month per service log group")
    log_gb_per_other_log_group: float = Field(default=0.5, ge=0, description="GB per month per other log group")
    container_insights_metrics_per_service: int = Field(
        default=19, ge=0, description="Custom metrics Container Insights emits per ECS service (service and "
                                      "task-family dimensions)")
    container_insights_metrics_per_cluster: int = Field(default=11, ge=0,
                                                        description="Custom metrics per cluster")
    container_insights_log_gb_per_service: float = Field(
        default=0.2, ge=0, description="GB of performance log events per service (Container Insights)")
    tls_certificates_per_service: float = Field(
        default=TLS_CERTIFICATES_PER_SERVICE_MONTH, ge=0,
        description="Short-lived certificates Service Connect TLS issues per service per month")
    ecr_gb_per_repository: float = Field(default=1, ge=0, description="GB of images kept per ECR repository")
    s3_gb_per_bucket: float = Field(default=2, ge=0, description="GB stored per S3 bucket (ALB access logs)")
    kms_requests_per_key: float = Field(default=100_000, ge=0, description="KMS requests per key")
    secret_api_calls_per_secret: float = Field(default=10_000, ge=0, description="GetSecretValue calls per secret")
    requests_per_month: float = Field(
        default=1_000_000, ge=0,
        description="Requests per SQS queue, DynamoDB table, event bus, pipe and SNS topic")
    dynamodb_write_fraction: float = Field(default=0.2, ge=0, le=1, description="Share of table requests that write")
    dynamodb_storage_gb: float = Field(default=1, ge=0, description="GB per DynamoDB table (each replica)")
    aurora_storage_gb: float = Field(default=10, ge=0, description="GB per Aurora cluster")
    aurora_io_millions: float = Field(default=1, ge=0, description="Million I/O requests per Aurora cluster")
    average_acu_fraction: float = Field(default=0, ge=0, le=1,
                                        description="Average ACUs sit this far between min and max capacity")
    archive_gb_per_month: float = Field(default=0.5, ge=0, description="GB archived per EventBridge archive")
    lambda_invocations_per_month: float = Field(
        default=100, ge=0, description="Invocations per Lambda function (the program's functions run on notifications)")
    lambda_seconds_per_invocation: float = Field(default=1, ge=0, description="Billed seconds per Lambda invocation")
    cloudtrail_data_events_per_month: float = Field(default=0, ge=0, description="Data events per trail that logs them")
