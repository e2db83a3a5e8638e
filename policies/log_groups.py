"""CloudWatch log groups expire their data and are encrypted with a customer-managed KMS key, and
every log group a container writes to is one the program manages.

``container-log-group-managed``: the awslogs log driver creates the group itself when a container's
``logConfiguration.options`` say ``"awslogs-create-group": "true"``. Such a group has neither retention
nor a key, and no ``aws:cloudwatch/logGroup`` for the other two policies to judge, so the option is
refused: create the group in the program and name it in ``awslogs-group``. FireLens' CloudWatch output
(``awsfirelens`` with ``auto_create_group``) does the same and is refused too.

Unknown values: ``retentionInDays`` is a literal in any sane program; unknown is reported as
unverifiable. An unknown ``kmsKeyId`` (the ARN of a key the program creates) is set; whether it is
a customer-managed key is deferred to ``pulumi up``. Unknown container definitions, log drivers or
options are deferred to ``pulumi up``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .ecs_containers import TASK_DEFINITION, container_definitions, container_label
from .framework import Finding, PolicySpec, ResourceView, deferred
from .values import get_path, is_set, is_unknown

LOG_GROUP = frozenset({"aws:cloudwatch/logGroup:LogGroup"})


def check_retention(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    retention = resource.props.get("retentionInDays")
    maximum = config["maxRetentionDays"]
    if is_unknown(retention):
        return [Finding("retentionInDays is unknown during preview and cannot be verified; use a literal number "
                        "of days.")]
    if not isinstance(retention, (int, float)) or retention <= 0:
        return [Finding(f"retentionInDays is {retention!r}, so logs are kept (and billed) forever. Set "
                        "retention_in_days (e.g. 30 for staging, 365 for prod).")]
    if maximum is not None and retention > float(maximum):
        return [Finding(f"retentionInDays is {retention:g}, above the allowed {float(maximum):g}. Lower "
                        "retention_in_days.")]
    return []


def check_kms(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    key = resource.props.get("kmsKeyId")
    if is_unknown(key):
        return [deferred("kmsKeyId is unknown during preview")]
    if is_set(key):
        return []
    return [Finding("kmsKeyId is not set, so the logs (which may contain request data) are encrypted only with a "
                    "CloudWatch-owned key you cannot audit or revoke. Set kms_key_id=<customer-managed key ARN>; "
                    "the key policy must allow logs.<region>.amazonaws.com.")]


LOG_GROUP_RETENTION = PolicySpec(
    name="log-group-retention",
    description="CloudWatch log groups have a finite retention period.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.LOW,
    remediation="Set retention_in_days on aws.cloudwatch.LogGroup.",
    unknowns="An unknown retentionInDays is reported as unverifiable.",
    check=check_retention,
    resource_types=LOG_GROUP,
    config={
        "maxRetentionDays": {"type": ["number", "null"], "default": None,
                             "description": "Optional upper bound on retentionInDays (null = no bound)."},
    },
)

LOG_GROUP_KMS = PolicySpec(
    name="log-group-kms",
    description="CloudWatch log groups are encrypted with a customer-managed KMS key.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    remediation="Set kms_key_id on aws.cloudwatch.LogGroup to a key whose policy allows the CloudWatch Logs service.",
    unknowns="An unknown kmsKeyId is deferred to `pulumi up`.",
    check=check_kms,
    resource_types=LOG_GROUP,
)


# Log driver -> the option with which it creates the log group itself.
CREATE_GROUP_OPTIONS = {"awslogs": "awslogs-create-group", "awsfirelens": "auto_create_group"}


def check_log_driver_groups(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    for index, container in enumerate(container_definitions(resource)):
        name = container_label(container, index)
        log_configuration = container.get("logConfiguration")
        driver = get_path(log_configuration, "logDriver")
        option = CREATE_GROUP_OPTIONS.get(driver) if isinstance(driver, str) else None
        create = get_path(log_configuration, "options", option) if option else None
        if is_unknown(log_configuration) or is_unknown(driver) or is_unknown(create) \
                or is_unknown(get_path(log_configuration, "options")):
            findings.append(deferred(f"{name} has a logConfiguration unknown during preview"))
        elif option and str(create).strip().lower() == "true":
            findings.append(Finding(
                f"{name} sets {option}, so its log group is created at run time without retention or "
                "a KMS key, outside the program. Create an aws.cloudwatch.LogGroup (retention_in_days, kms_key_id), "
                f"name it in the log options and drop {option}."))
    return findings


CONTAINER_LOG_GROUP_MANAGED = PolicySpec(
    name="container-log-group-managed",
    description="Containers log to a log group the program manages: no awslogs-create-group, which creates "
                "groups without retention or encryption.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    remediation="Create the log group in the program and remove \"awslogs-create-group\" from logConfiguration.options.",
    unknowns="Unknown containerDefinitions or log configuration are deferred to `pulumi up`.",
    check=check_log_driver_groups,
    resource_types=TASK_DEFINITION,
)
