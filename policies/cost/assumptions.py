"""Usage assumptions: the part of a monthly bill that no resource declares.

A resource says how big it is (a task size, a NAT gateway, an endpoint in two AZs); how much it
is used (GB through the NAT, LCUs, log volume, requests) is an assumption. Every such figure
lives here, with a default for a quiet staging stack, and can be overridden per stack
(config key ``costAssumptions``, camelCase names as below). docs/cost-model.md explains each.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

# ECS Service Connect TLS certificates "rotate every five days" (AWS containers blog, see
# docs/cost-model.md): 730 h / 120 h per certificate, per service.
TLS_CERTIFICATES_PER_SERVICE_MONTH = 730 / 120


class UsageAssumptions(BaseModel):
    """Monthly usage per stack. Counts are per month; ``*Fraction`` values are 0-1."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True,
                              allow_inf_nan=False)

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
    cloudtrail_data_events_per_month: float = Field(default=100_000, ge=0,
                                                    description="Data events per trail that logs them")
    api_requests_per_month: float = Field(
        default=1_000_000, ge=0, description="Requests the services answer per month (traces = this x sampling rate)")
    database_pooled_connections: bool = Field(
        default=True, description="Services keep a connection pool open to their database, which then never "
                                  "auto-pauses (Aurora pauses only without user connections)")
    database_awake_hours_per_month: float = Field(
        default=730, ge=0, le=744, description="Hours an auto-pausing database (minimum 0 ACU) runs when services "
                                               "connect per request instead of holding a pool")
    aurora_replicated_write_io_millions: float = Field(
        default=0.5, ge=0, description="Million write I/Os a global database replicates to each secondary")
    database_rehearsal_hours_per_month: float = Field(
        default=8, ge=0, le=744, description="Hours a month a headless secondary database runs the reader a Region "
                                             "switch rehearsal adds (failover.standbyDatabaseReaders: 1 for the drill)")
    ecs_target_runs_per_month: float = Field(
        default=1000, ge=0, description="Runs of an EventBridge target that starts ECS tasks on an event or cron")
    ecs_target_minutes_per_run: float = Field(default=5, ge=0, description="Minutes each such task runs")


# The least each assumption may be in each environment: a stack may assume more, never less (a quiet stack
# still pulls images, writes logs and answers health checks). Unknown environment: the staging row. A
# standby serves no traffic until a Region switch, so it is held to the quiet (staging) row whatever its
# environment; the month it takes over, its budget notifications are the signal.
FLOORS: dict[str, dict[str, float]] = {
    "staging": {
        "average_task_fraction": 0, "nat_gb_per_month": 5, "interface_endpoint_gb_per_month": 0.5, "alb_lcu": 0.1,
        "log_gb_per_service": 0.5, "log_gb_per_other_log_group": 0.05, "container_insights_metrics_per_service": 19,
        "container_insights_metrics_per_cluster": 11, "container_insights_log_gb_per_service": 0.05,
        "tls_certificates_per_service": TLS_CERTIFICATES_PER_SERVICE_MONTH, "ecr_gb_per_repository": 0.1,
        "s3_gb_per_bucket": 0.1, "kms_requests_per_key": 10_000, "secret_api_calls_per_secret": 1_000,
        "requests_per_month": 100_000, "dynamodb_write_fraction": 0.05, "dynamodb_storage_gb": 0.1,
        "aurora_storage_gb": 1, "aurora_io_millions": 0.1, "average_acu_fraction": 0, "archive_gb_per_month": 0.05,
        "lambda_invocations_per_month": 10, "lambda_seconds_per_invocation": 0.1,
        "cloudtrail_data_events_per_month": 10_000, "api_requests_per_month": 100_000,
        "database_awake_hours_per_month": 40, "aurora_replicated_write_io_millions": 0.05,
        "database_rehearsal_hours_per_month": 8,
        "ecs_target_runs_per_month": 100, "ecs_target_minutes_per_run": 1,
    },
    "prod": {
        "average_task_fraction": 0.1, "nat_gb_per_month": 50, "interface_endpoint_gb_per_month": 2, "alb_lcu": 1,
        "log_gb_per_service": 2, "log_gb_per_other_log_group": 0.2, "container_insights_metrics_per_service": 19,
        "container_insights_metrics_per_cluster": 11, "container_insights_log_gb_per_service": 0.2,
        "tls_certificates_per_service": TLS_CERTIFICATES_PER_SERVICE_MONTH, "ecr_gb_per_repository": 0.5,
        "s3_gb_per_bucket": 1, "kms_requests_per_key": 100_000, "secret_api_calls_per_secret": 10_000,
        "requests_per_month": 1_000_000, "dynamodb_write_fraction": 0.05, "dynamodb_storage_gb": 1,
        "aurora_storage_gb": 10, "aurora_io_millions": 1, "average_acu_fraction": 0.05, "archive_gb_per_month": 0.5,
        "lambda_invocations_per_month": 100, "lambda_seconds_per_invocation": 0.1,
        "cloudtrail_data_events_per_month": 100_000, "api_requests_per_month": 1_000_000,
        "database_awake_hours_per_month": 730, "aurora_replicated_write_io_millions": 0.5,
        "database_rehearsal_hours_per_month": 8,
        "ecs_target_runs_per_month": 1000, "ecs_target_minutes_per_run": 1,
    },
}


def _floor_row(environment: str | None, role: str | None) -> tuple[dict[str, float], str]:
    if role == "standby":
        return FLOORS["staging"], f"{environment or 'unknown'} standby (quiet)"
    if environment in FLOORS:
        return FLOORS[environment], str(environment)
    return FLOORS["staging"], "staging (environment unknown)"


def floor_problems(assumptions: UsageAssumptions, environment: str | None, role: str | None = None) -> list[str]:
    """``costAssumptions.<key> = <value> is below the <environment> floor <floor>`` for every value under its
    environment's floor (an empty list when all hold)."""
    row, where = _floor_row(environment, role)
    problems = []
    for name, floor in row.items():
        value = getattr(assumptions, name)
        if value < floor - 1e-9:
            problems.append(f"costAssumptions.{to_camel(name)} = {value:g} is below the {where} floor {floor:g} "
                            "(policies/cost/assumptions.py FLOORS)")
    return problems


def assumptions_for(values: Mapping[str, Any], environment: str | None, role: str | None = None) -> UsageAssumptions:
    """The stack's assumptions, validated and held to its environment's floors; ValueError naming the key.
    A key the stack leaves out takes the larger of its default and its environment's floor."""
    row, _where = _floor_row(environment, role)
    given = {to_camel(k) if "_" in k else k: v for k, v in values.items()}
    defaults = UsageAssumptions()
    filled = {to_camel(name): max(getattr(defaults, name), floor) for name, floor in row.items()
              if to_camel(name) not in given}
    try:
        assumptions = UsageAssumptions.model_validate({**filled, **given})
    except ValidationError as error:
        first = error.errors()[0]
        raise ValueError(f"costAssumptions.{'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    problems = floor_problems(assumptions, environment, role)
    if problems:
        raise ValueError(problems[0])
    return assumptions
