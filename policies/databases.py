"""Relational databases: encrypted, never reachable from the internet, deletion-protected in prod, and their
snapshots never public.

* ``rds-cluster-encrypted``: Aurora/Multi-AZ clusters, RDS instances and global clusters encrypt storage. A
  global cluster created from an existing cluster (``sourceDbClusterIdentifier``) inherits that cluster's
  encryption and AWS refuses ``storageEncrypted`` there, so it passes (the source cluster is judged itself).
* ``rds-not-public``: no cluster, cluster instance or instance is publicly accessible (Multi-AZ DB clusters
  carry the flag on the cluster), and clusters and instances name a DB subnet group: without one AWS places
  the database in the account's default VPC, whose subnets are public.
* ``rds-deletion-protection-prod``: in prod (by stack), clusters, instances and global clusters are
  deletion-protected.
* ``rds-snapshot-not-public``: snapshots and snapshot copies are not shared with ``all`` (public), whether
  through ``sharedAccounts`` or a ``restore`` attribute.

Unknown values: flags are literals in any sane program; unknown ones are reported as unverifiable. An unknown
subnet group name or source cluster is a reference to a resource of the program and counts as set.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .environments import STACK_ENVIRONMENTS_KNOB, environment_of, stack_of
from .framework import Finding, PolicySpec, ResourceView, require_true
from .values import as_list, is_set, is_unknown

CLUSTER = "aws:rds/cluster:Cluster"
INSTANCE = "aws:rds/instance:Instance"
CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
GLOBAL_CLUSTER = "aws:rds/globalCluster:GlobalCluster"
SNAPSHOT_TYPES = frozenset({"aws:rds/snapshot:Snapshot", "aws:rds/clusterSnapshot:ClusterSnapshot",
                            "aws:rds/snapshotCopy:SnapshotCopy", "aws:rds/clusterSnapshotCopy:ClusterSnapshotCopy"})


def check_storage_encrypted(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    if resource.type == GLOBAL_CLUSTER and is_set(resource.props.get("sourceDbClusterIdentifier")):
        return []  # encryption comes from the source cluster, which this policy judges itself
    return require_true("storageEncrypted", resource.props.get("storageEncrypted"),
                        ", so the database storage, backups and snapshots are unencrypted. Set "
                        "storage_encrypted=True and kms_key_id=<platform key ARN> (only possible at creation).")


def check_not_public(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    public = resource.props.get("publiclyAccessible")
    if not (public is False or public is None):  # the provider's default is false
        findings.append(Finding(f"publiclyAccessible is {'unknown during preview' if is_unknown(public) else repr(public)}"
                                ", so the database gets a public address. Set publicly_accessible=False."))
    if resource.type in (CLUSTER, INSTANCE) and not is_set(resource.props.get("dbSubnetGroupName")):
        findings.append(Finding("dbSubnetGroupName is not set, so AWS places the database in the account's default "
                                "VPC, whose subnets are public. Set db_subnet_group_name to a subnet group of the "
                                "platform's private subnets."))
    return findings


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


def _public_share(values: Any) -> str | None:
    if is_unknown(values):
        return "unknown during preview"
    for value in as_list(values):
        if is_unknown(value):
            return "unknown during preview"
        if isinstance(value, str) and value.strip().lower() == "all":
            return repr(value)
    return None


def check_snapshot_not_public(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    props = resource.props
    findings: list[Finding] = []
    shared = _public_share(props.get("sharedAccounts"))
    if shared is not None:
        findings.append(Finding(f"sharedAccounts holds {shared}; 'all' makes the snapshot (the whole database) "
                                "restorable by every AWS account. Share it with named account ids only."))
    if str(props.get("attributeName", "")).lower() == "restore":
        shared = _public_share(props.get("values"))
        if shared is not None:
            findings.append(Finding(f"the restore attribute's values hold {shared}, which makes the snapshot public. "
                                    "Name the account ids that may restore it."))
    return findings


DATABASE_ENVIRONMENT_CONFIG = {
    "prodEnvironments": {"type": "array", "items": {"type": "string"}, "default": ["prod"],
                         "description": "Environments whose databases must be deletion-protected."},
    "stackEnvironments": STACK_ENVIRONMENTS_KNOB,
}

RDS_CLUSTER_ENCRYPTED = PolicySpec(
    name="rds-cluster-encrypted",
    description="RDS/Aurora clusters, instances and global clusters encrypt storage (a global cluster made from an "
                "existing cluster inherits its encryption).",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH,
    remediation="Set storage_encrypted=True and kms_key_id on aws.rds.Cluster / aws.rds.Instance.",
    unknowns="An unknown storageEncrypted is reported as unverifiable.", check=check_storage_encrypted,
    resource_types=frozenset({CLUSTER, INSTANCE, GLOBAL_CLUSTER}))

RDS_NOT_PUBLIC = PolicySpec(
    name="rds-not-public",
    description="RDS/Aurora clusters and instances are not publicly accessible and live in the program's subnets "
                "(a DB subnet group, not the default VPC).",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH,
    remediation="Set publicly_accessible=False and db_subnet_group_name to a private subnet group.",
    unknowns="An unknown publiclyAccessible is reported; an unknown subnet group name counts as set.",
    check=check_not_public, resource_types=frozenset({CLUSTER, CLUSTER_INSTANCE, INSTANCE}))

RDS_DELETION_PROTECTION_PROD = PolicySpec(
    name="rds-deletion-protection-prod",
    description="Prod (by stack, not by tag) RDS/Aurora clusters, instances and global clusters have deletion "
                "protection.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH,
    remediation="Set deletion_protection=True on aws.rds.Cluster, aws.rds.Instance and aws.rds.GlobalCluster in prod.",
    unknowns="An unknown deletionProtection is reported as unverifiable.",
    check=check_deletion_protection_prod, resource_types=frozenset({CLUSTER, INSTANCE, GLOBAL_CLUSTER}),
    config=DATABASE_ENVIRONMENT_CONFIG)

RDS_SNAPSHOT_NOT_PUBLIC = PolicySpec(
    name="rds-snapshot-not-public",
    description="RDS snapshots and snapshot copies are not shared with 'all' (public).",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.CRITICAL,
    remediation="Remove 'all' from shared_accounts; share with named account ids.",
    unknowns="An unknown sharedAccounts or restore value is reported as unverifiable.",
    check=check_snapshot_not_public, resource_types=SNAPSHOT_TYPES)
