"""Queues, tables and databases keep their data safe.

* ``sqs-queue-dead-letter`` (stack): every SQS queue has a ``redrivePolicy`` unless it is itself a
  dead-letter queue, i.e. another resource names it in a ``redrivePolicy``, ``deadLetterConfig`` or
  ``sourceParameters`` (EventBridge targets and pipes) by its known ARN or through a property dependency.
* ``sqs-queue-encryption``: SQS queues are encrypted with a KMS key (``kmsMasterKeyId``).
* ``dynamodb-table-pitr`` / ``dynamodb-table-kms``: DynamoDB tables, and each of their replicas, have
  point-in-time recovery and server-side encryption with a customer managed key.
* ``rds-cluster-encrypted``, ``rds-not-public``, ``rds-deletion-protection-prod``: Aurora/RDS clusters
  encrypt storage, instances are never publicly accessible, and prod clusters are deletion-protected.

Unknown values: an unknown key ARN is a key the program creates and counts as set; an unknown flag is
reported as unverifiable. The environment of a database comes from its stack (``stackEnvironments``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .environments import STACK_ENVIRONMENTS_KNOB, environment_of, stack_of
from .framework import Finding, PolicySpec, ResourceView, require_true
from .values import DocumentError, as_list, get_path, is_set, is_unknown, parse_json_document

QUEUE = "aws:sqs/queue:Queue"
TABLE = "aws:dynamodb/table:Table"
CLUSTER = "aws:rds/cluster:Cluster"
DEAD_LETTER_REFERENCES = ("redrivePolicy", "deadLetterConfig", "sourceParameters")


def _referenced_arns(value: Any) -> set[str]:
    """Every string inside a property value; JSON text (a redrivePolicy, a pipe filter) is opened."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            value = parse_json_document(value)
        except DocumentError:
            return {value}
    if isinstance(value, Mapping):
        return set().union(set(), *(_referenced_arns(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(set(), *(_referenced_arns(v) for v in value))
    return {value} if isinstance(value, str) else set()


def check_dead_letter(resources: list[ResourceView], config: Mapping[str, Any]) -> list[Finding]:
    dead_letter_arns: set[str] = set()
    dead_letter_views: set[int] = set()
    for resource in resources:
        for prop in DEAD_LETTER_REFERENCES:
            if prop in resource.props:
                dead_letter_arns |= _referenced_arns(resource.props[prop])
                dead_letter_views |= {id(v) for v in resource.property_dependencies.get(prop, [])}
    findings = []
    for queue in (r for r in resources if r.type == QUEUE):
        if id(queue) in dead_letter_views:
            continue
        arn = queue.props.get("arn")
        if isinstance(arn, str) and not is_unknown(arn) and arn in dead_letter_arns:
            continue
        if is_set(queue.props.get("redrivePolicy")):
            continue
        findings.append(Finding(
            "has no redrivePolicy and no resource uses it as a dead-letter queue, so a message its consumer "
            "cannot process is received forever (or lost at retention). Set redrive_policy="
            "json.dumps({'deadLetterTargetArn': <DLQ ARN>, 'maxReceiveCount': 5}).", urn=queue.urn))
    return findings


def check_queue_encryption(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    if is_set(resource.props.get("kmsMasterKeyId")):
        return []
    return [Finding("kmsMasterKeyId is not set, so messages are not encrypted with a key you control. Set "
                    "kms_master_key_id=<platform key ARN> (its policy must admit the producing services).")]


def check_table_pitr(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    findings = require_true("pointInTimeRecovery.enabled", get_path(resource.props, "pointInTimeRecovery", "enabled"),
                            ", so the table cannot be restored to a point in the last 35 days. Set "
                            "point_in_time_recovery={'enabled': True}.")
    for index, replica in enumerate(as_list(resource.props.get("replicas"))):
        findings += require_true(f"replicas[{index}].pointInTimeRecovery", get_path(replica, "pointInTimeRecovery"),
                                 " (it defaults to false per replica). Set point_in_time_recovery=True on the replica.")
    return findings


def check_table_kms(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    sse = resource.props.get("serverSideEncryption")
    findings = require_true("serverSideEncryption.enabled", get_path(sse, "enabled"),
                            ", so the table is encrypted with an AWS owned key you cannot audit. Set "
                            "server_side_encryption={'enabled': True, 'kms_key_arn': <platform key ARN>}.")
    if not findings and not is_set(get_path(sse, "kmsKeyArn")):
        findings.append(Finding("serverSideEncryption.kmsKeyArn is not set, so the AWS managed key aws/dynamodb is "
                                "used. Set kms_key_arn to the platform key."))
    for index, replica in enumerate(as_list(resource.props.get("replicas"))):
        if not is_set(get_path(replica, "kmsKeyArn")):
            findings.append(Finding(f"replicas[{index}].kmsKeyArn is not set; the replica would use aws/dynamodb. "
                                    "Set it to a customer managed key of the replica's region."))
    return findings


def check_cluster_encrypted(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    return require_true("storageEncrypted", resource.props.get("storageEncrypted"),
                        ", so the database storage, backups and snapshots are unencrypted. Set "
                        "storage_encrypted=True and kms_key_id=<platform key ARN> (only possible at creation).")


def check_not_public(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    public = resource.props.get("publiclyAccessible")
    if public is False or public is None:  # the provider's default is false
        return []
    return [Finding(f"publiclyAccessible is {'unknown during preview' if is_unknown(public) else public!r}, so the "
                    "instance gets a public address. Set publicly_accessible=False.")]


def check_deletion_protection_prod(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    # The environment comes from the stack (environments.py), never from the resource's own tags.
    environment = environment_of(resource.urn, config["stackEnvironments"])
    if environment is not None and environment not in set(config["prodEnvironments"]):
        return []
    where = f"environment '{environment}'" if environment is not None else \
        f"stack '{stack_of(resource.urn)}' (no stackEnvironments entry, so held to production's rules)"
    return require_true("deletionProtection", resource.props.get("deletionProtection"),
                        f" on a database of {where}, so one mistaken `pulumi destroy` or console click deletes it. "
                        "Set deletion_protection=True.")


DATA_STORE_ENVIRONMENT_CONFIG = {
    "prodEnvironments": {"type": "array", "items": {"type": "string"}, "default": ["prod"],
                         "description": "Environments whose databases must be deletion-protected."},
    "stackEnvironments": STACK_ENVIRONMENTS_KNOB,
}

SQS_QUEUE_DEAD_LETTER = PolicySpec(
    name="sqs-queue-dead-letter",
    description="Every SQS queue has a dead-letter queue (redrivePolicy), unless it is one.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.MEDIUM,
    remediation="Set redrive_policy on the queue pointing at its dead-letter queue.",
    unknowns="A queue reached through a property dependency of a redrivePolicy, deadLetterConfig or sourceParameters "
             "counts as a dead-letter queue; an unknown redrivePolicy counts as set.",
    check=check_dead_letter, stack=True)

SQS_QUEUE_ENCRYPTION = PolicySpec(
    name="sqs-queue-encryption", description="SQS queues are encrypted with a KMS key.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.MEDIUM,
    remediation="Set kms_master_key_id on aws.sqs.Queue.", unknowns="An unknown kmsMasterKeyId counts as set.",
    check=check_queue_encryption, resource_types=frozenset({QUEUE}))

DYNAMODB_TABLE_PITR = PolicySpec(
    name="dynamodb-table-pitr", description="DynamoDB tables and their replicas have point-in-time recovery.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.MEDIUM,
    remediation="Set point_in_time_recovery={'enabled': True} (and point_in_time_recovery=True per replica).",
    unknowns="An unknown flag is reported as unverifiable.", check=check_table_pitr,
    resource_types=frozenset({TABLE}))

DYNAMODB_TABLE_KMS = PolicySpec(
    name="dynamodb-table-kms", description="DynamoDB tables and replicas are encrypted with a customer managed key.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.MEDIUM,
    remediation="Set server_side_encryption={'enabled': True, 'kms_key_arn': ...} and kms_key_arn per replica.",
    unknowns="An unknown key ARN counts as set; an unknown enabled flag is reported.", check=check_table_kms,
    resource_types=frozenset({TABLE}))

RDS_CLUSTER_ENCRYPTED = PolicySpec(
    name="rds-cluster-encrypted", description="RDS/Aurora cluster storage is encrypted.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH,
    remediation="Set storage_encrypted=True and kms_key_id on aws.rds.Cluster.",
    unknowns="An unknown storageEncrypted is reported as unverifiable.", check=check_cluster_encrypted,
    resource_types=frozenset({CLUSTER, "aws:rds/globalCluster:GlobalCluster"}))

RDS_NOT_PUBLIC = PolicySpec(
    name="rds-not-public", description="RDS/Aurora instances are not publicly accessible.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH,
    remediation="Set publicly_accessible=False.", unknowns="An unknown publiclyAccessible is reported.",
    check=check_not_public,
    resource_types=frozenset({"aws:rds/clusterInstance:ClusterInstance", "aws:rds/instance:Instance"}))

RDS_DELETION_PROTECTION_PROD = PolicySpec(
    name="rds-deletion-protection-prod", description="Prod (by stack, not by tag) RDS/Aurora clusters have deletion protection.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH,
    remediation="Set deletion_protection=True on aws.rds.Cluster in prod.",
    unknowns="An unknown deletionProtection is reported as unverifiable.",
    check=check_deletion_protection_prod, resource_types=frozenset({CLUSTER}),
    config=DATA_STORE_ENVIRONMENT_CONFIG)
