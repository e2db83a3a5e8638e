"""CloudWatch log groups expire their data and are encrypted with a customer-managed KMS key, and
every log group a container writes to is one the program manages.

``container-log-group-managed``: the awslogs log driver creates the group itself when a container's
``logConfiguration.options`` say ``"awslogs-create-group": "true"``. Such a group has neither retention
nor a key, and no ``aws:cloudwatch/logGroup`` for the other two policies to judge, so the option is
refused: create the group in the program and name it in ``awslogs-group``. FireLens' CloudWatch output
(``awsfirelens`` with ``auto_create_group``) does the same and is refused too, as is the Service Connect proxy's
``serviceConnectConfiguration.logConfiguration`` of an ECS service. Any value but an off spelling (``false``,
``0``, ``off``, ``no``) counts as on, so ``"1"``, ``"On"`` or ``"TRUE"`` are refused too.

``function-log-group-managed`` (stack policy): a Lambda function logs to ``loggingConfig.logGroup`` or
``/aws/lambda/<name>``, which Lambda creates without retention or key unless an ``aws:cloudwatch/logGroup`` of
the stack has that name (or the logging config depends on one).

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
# Spellings that leave the option off; any other value is read as on (Docker's awslogs driver parses "1", "t",
# "TRUE"..., FireLens plugins "On"/"yes"), so an odd spelling cannot slip a created group through.
_OFF = frozenset({"", "false", "0", "f", "off", "no", "n"})
ECS_SERVICE = "aws:ecs/service:Service"
LAMBDA_FUNCTION = "aws:lambda/function:Function"


def _creates_group(where: str, log_configuration: Any) -> list[Finding]:
    driver = get_path(log_configuration, "logDriver")
    option = CREATE_GROUP_OPTIONS.get(driver.strip().lower()) if isinstance(driver, str) else None
    options = get_path(log_configuration, "options")
    if is_unknown(log_configuration) or is_unknown(driver) or is_unknown(options):
        return [deferred(f"{where} has a logConfiguration unknown during preview")]
    if not option or not isinstance(options, Mapping):
        return []
    create = next((v for k, v in options.items() if str(k).strip().lower() == option), None)
    if is_unknown(create):
        return [deferred(f"{where} has a logConfiguration unknown during preview ({option})")]
    if create is None or str(create).strip().lower() in _OFF:
        return []
    return [Finding(f"{where} sets {option} to {create!r}, so its log group is created at run time without retention "
                    "or a KMS key, outside the program. Create an aws.cloudwatch.LogGroup (retention_in_days, "
                    f"kms_key_id), name it in the log options and drop {option}.")]


def check_log_driver_groups(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    if resource.type == ECS_SERVICE:
        return _creates_group("the Service Connect proxy",
                              get_path(resource.props, "serviceConnectConfiguration", "logConfiguration"))
    findings: list[Finding] = []
    for index, container in enumerate(container_definitions(resource)):
        findings += _creates_group(container_label(container, index), container.get("logConfiguration"))
    return findings


def check_function_log_groups(resources: list[ResourceView], config: Mapping[str, Any]) -> list[Finding]:
    """Lambda writes to /aws/lambda/<function name> (or loggingConfig.logGroup) and creates that group, without
    retention or key, unless the program manages it."""
    groups = [r for r in resources if r.type in LOG_GROUP]
    names = {g.props.get("name") for g in groups if isinstance(g.props.get("name"), str)}
    findings: list[Finding] = []
    for function in (r for r in resources if r.type == LAMBDA_FUNCTION):
        if any(d.type in LOG_GROUP for d in function.property_dependencies.get("loggingConfig", [])):
            continue
        target = get_path(function.props, "loggingConfig", "logGroup")
        if target is None:
            name = function.props.get("name")
            target = f"/aws/lambda/{name}" if isinstance(name, str) and not is_unknown(name) else name
        if is_unknown(target) or target is None:
            findings.append(deferred("the function's log group name is unknown during preview", urn=function.urn))
        elif target not in names:
            findings.append(Finding(
                f"writes its logs to {target!r}, which no aws.cloudwatch.LogGroup of the stack manages, so Lambda creates "
                "it at first invocation without retention or a KMS key. Create the log group in the program (name "
                "'/aws/lambda/<function name>' or logging_config.log_group) with retention_in_days and kms_key_id.",
                urn=function.urn))
    return findings


CONTAINER_LOG_GROUP_MANAGED = PolicySpec(
    name="container-log-group-managed",
    description="Containers and Service Connect proxies log to a log group the program manages: no "
                "awslogs-create-group (in any spelling of true), which creates groups without retention or encryption.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    remediation="Create the log group in the program and remove \"awslogs-create-group\" from logConfiguration.options.",
    unknowns="Unknown containerDefinitions or log configuration are deferred to `pulumi up`.",
    check=check_log_driver_groups,
    resource_types=TASK_DEFINITION | {ECS_SERVICE},
)

FUNCTION_LOG_GROUP_MANAGED = PolicySpec(
    name="function-log-group-managed",
    description="Every Lambda function logs to a log group the program manages (with retention and key), not one "
                "Lambda creates at first invocation.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    remediation="Create aws.cloudwatch.LogGroup('/aws/lambda/<function name>') with retention_in_days and kms_key_id, "
                "or point logging_config.log_group at a managed group.",
    unknowns="An unknown function name or log group name without a property dependency on a log group is deferred "
             "to `pulumi up`.",
    check=check_function_log_groups,
    stack=True,
)
