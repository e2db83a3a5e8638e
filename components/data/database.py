"""ServiceDatabase: one service's Aurora PostgreSQL Serverless v2 cluster, reachable only from its tasks.

A DB subnet group over the private subnets, a cluster with one `db.serverless` writer, storage encrypted
with the platform key, IAM database authentication (tasks connect as the database user named after the
service with `rds-db:connect`, see components/data/access.py), backups, and a security group that admits
5432 only from the service's task security group (with the matching egress rule on the task group).

Facts this rests on (AWS documentation, checked 2026-12):
  * Scale to zero: a minimum capacity of 0 ACUs turns on auto-pause; Aurora PostgreSQL needs at least
    16.3, 15.7, 14.12 or 13.15 (Aurora user guide, aurora-serverless-v2-auto-pause.html, "Prerequisites
    and Limitations"); SecondsUntilAutoPause is 300-86,400 (API ServerlessV2ScalingConfiguration).
  * Global database: Serverless v2 instances may be in the primary and secondary clusters, but Aurora
    "doesn't automatically pause" the writer of a global database's primary cluster, and instances "in the
    secondary clusters of an Aurora Global Database don't automatically pause" (same page, "Situations
    where Aurora Serverless v2 doesn't auto-pause"). So the clusters of a global database keep 0.5 ACU
    minimum: 0 would be accepted and silently never pause.
  * RDS-managed master secret (`manage_master_user_password`, encrypted with the platform key) is not
    supported for "DB clusters that are part of an Aurora global database" (Aurora user guide,
    rds-secrets-manager.html, "Limitations"). Clusters outside a global database use it. A global
    database's primary sets the master password write-only (`master_password_wo`, never stored in Pulumi state) from
    Secrets Manager's GetRandomPassword and writes the same value, also write-only, into a secret
    `<environment>/<service>/db-master` that replicates to the standby region. Bumping
    `master_password_version` rotates both together. Applications never use it: they authenticate with IAM.
  * Engine version: `engine_version` is pinned to a minor version (Aurora PostgreSQL takes no major-only
    version; the API documents that shorthand for Aurora MySQL only), so automatic minor upgrades are off
    on the cluster and its instance: with them on, AWS moves the cluster past the pinned version and the
    next `pulumi up` asks for a downgrade, which RDS refuses (InvalidParameterCombination). Minor upgrades
    are a change of ENGINE_VERSION (docs/lifecycle.md).
  * Final snapshot: the provider reads `final_snapshot_identifier` from state when it deletes the cluster,
    and a snapshot name can exist once per account and region, so a fixed name makes the second destroy
    of a re-created cluster fail. The name ends in the id of the database's security group, which is
    created with the cluster, so every deployment of the cluster snapshots under its own name while a
    preview still prints the same name twice (docs/lifecycle.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws.ec2 as ec2
import pulumi_aws.rds as rds
import pulumi_aws.secretsmanager as secretsmanager
import pulumi_aws.vpc as vpc_rules

from components.data.names import POSTGRES_PORT, cluster_identifier
from components.data.spec import PostgresData

ENGINE = "aurora-postgresql"
ENGINE_VERSION = "16.6"
# Lowest minor version per major that supports a minimum capacity of 0 ACUs (auto-pause).
AUTO_PAUSE_MINIMUM = {16: 3, 15: 7, 14: 12, 13: 15}
SERVERLESS_MIN_NONZERO = 0.5
# The database user the service's tasks connect as with IAM authentication (`GRANT rds_iam TO <user>`).
MASTER_USERNAME = "platform_admin"
# Performance Insights' free retention tier (7 days).
PERFORMANCE_INSIGHTS_RETENTION_DAYS = 7


# CreateDBClusterSnapshot / FinalDBSnapshotIdentifier: 1-255 letters, digits or hyphens, a letter first,
# no two consecutive hyphens, no hyphen last.
SNAPSHOT_NAME_MAX = 255


def snapshot_name(identifier: str, deployment_id: str) -> str:
    """`<identifier>-final-<id of a resource created with the cluster>`: unique per deployment."""
    snapshot = re.sub(r"-{2,}", "-", f"{identifier}-final-{deployment_id}").strip("-")[:SNAPSHOT_NAME_MAX].rstrip("-")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]*", snapshot):
        raise ValueError(f"final snapshot name {snapshot!r} is not letters, digits and hyphens")
    return snapshot


def final_snapshot_name(identifier: str, deployment_id: pulumi.Input[str]) -> pulumi.Output[str]:
    return pulumi.Output.from_input(deployment_id).apply(lambda suffix: snapshot_name(identifier, suffix))


def supports_auto_pause(engine_version: str) -> bool:
    major, _, minor = engine_version.partition(".")
    if not major.isdigit() or not minor.split(".")[0].isdigit():
        raise ValueError(f"{engine_version!r} is not an Aurora PostgreSQL version (major.minor)")
    needed = AUTO_PAUSE_MINIMUM.get(int(major))
    if needed is None:
        return int(major) > max(AUTO_PAUSE_MINIMUM)
    return int(minor.split(".")[0]) >= needed


def parameter_family(engine_version: str) -> str:
    """The DB cluster parameter group family of an Aurora PostgreSQL version: `aurora-postgresql<major>`."""
    major = engine_version.partition(".")[0]
    if not major.isdigit():
        raise ValueError(f"{engine_version!r} is not an Aurora PostgreSQL version (major.minor)")
    return f"{ENGINE}{major}"


@dataclass(frozen=True)
class GlobalPrimary:
    """Primary stack of a replicating pair: create the global database and be its primary cluster."""


@dataclass(frozen=True)
class GlobalSecondary:
    """Standby stack: join the primary's global database (identifier from its stack outputs).

    readers: 1, or 0 for a headless secondary (no DB instance): Aurora keeps its storage volume in sync and
    bills storage only ("Creating a headless Aurora DB cluster in a secondary Region", Aurora user guide,
    which also says a headless Aurora PostgreSQL secondary is created through the API, as the provider
    does). A Region switch cannot promote it until a reader is added (docs/failover.md)."""

    global_cluster_identifier: pulumi.Input[str]
    readers: int = 1

    def __post_init__(self) -> None:
        if self.readers not in (0, 1):
            raise ValueError(f"GlobalSecondary: readers must be 0 (headless) or 1, got {self.readers}")


def is_headless(role: GlobalPrimary | GlobalSecondary | None) -> bool:
    """Whether the cluster has no DB instance (a headless secondary)."""
    return isinstance(role, GlobalSecondary) and role.readers == 0


@dataclass(frozen=True)
class ServiceDatabaseArgs:
    """environment/service: name everything `<environment>-<service>`. spec: the catalog's `data` entry.
    vpc_id / subnet_ids: the private subnets (at least two AZs, DB subnet group rule).
    task_security_group_id: the service's task group, the only source admitted on 5432.
    kms_key_arn: the platform key of this region (storage, master secret, Performance Insights).
    min_capacity: 0 turns on auto-pause (needs an engine version that supports it; never in a global
    database). global_role: None (a pair that does not replicate), GlobalPrimary or GlobalSecondary.
    """

    environment: str
    service: str
    spec: PostgresData
    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    task_security_group_id: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    min_capacity: float = SERVERLESS_MIN_NONZERO
    seconds_until_auto_pause: int = 900
    backup_retention_days: int = 7
    deletion_protection: bool = False
    performance_insights: bool = False
    global_role: GlobalPrimary | GlobalSecondary | None = None
    # Aurora PostgreSQL managed RPO of a global database (rds.global_db_rpo, seconds, >= 20).
    global_rpo_seconds: int | None = None
    master_password_version: int = 1
    replica_region: str = "eu-west-1"
    engine_version: str = ENGINE_VERSION
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = []
        cluster_identifier(self.environment, self.service)
        if self.min_capacity == 0:
            if not supports_auto_pause(self.engine_version):
                problems.append(f"min_capacity 0 (auto-pause) needs Aurora PostgreSQL 16.3/15.7/14.12/13.15 or "
                                f"later, not {self.engine_version}")
            if self.global_role is not None:
                problems.append("min_capacity 0 in a global database never pauses; use 0.5 or more")
            if not 300 <= self.seconds_until_auto_pause <= 86400:
                problems.append("seconds_until_auto_pause must be 300-86400")
        elif self.min_capacity < SERVERLESS_MIN_NONZERO or round(self.min_capacity * 2) != self.min_capacity * 2:
            problems.append(f"min_capacity must be 0 or a multiple of 0.5 from 0.5, got {self.min_capacity}")
        if self.min_capacity > self.spec.max_capacity:
            problems.append(f"min_capacity {self.min_capacity} exceeds max_capacity {self.spec.max_capacity}")
        if self.global_rpo_seconds is not None and (self.global_role is None or self.global_rpo_seconds < 20):
            problems.append("global_rpo_seconds (rds.global_db_rpo) applies to global databases only, 20 s or more")
        if not 1 <= self.backup_retention_days <= 35:
            problems.append("backup_retention_days must be 1-35 (Aurora backups cannot be turned off)")
        if problems:
            raise ValueError("ServiceDatabaseArgs: " + "; ".join(problems))

    def scaling_configuration(self) -> rds.ClusterServerlessv2ScalingConfigurationArgsDict:
        config: rds.ClusterServerlessv2ScalingConfigurationArgsDict = {"min_capacity": self.min_capacity, "max_capacity": self.spec.max_capacity}
        if self.min_capacity == 0:
            config["seconds_until_auto_pause"] = self.seconds_until_auto_pause
        return config


@dataclass(frozen=True)
class _Credentials:
    """How the cluster gets its master user: RDS-managed, written by this stack, or none (a secondary)."""

    master_username: str | None = None
    manage_master_user_password: bool | None = None
    master_user_secret_kms_key_id: pulumi.Input[str] | None = None
    database_name: str | None = None
    master_password_wo: pulumi.Output[str] | None = None
    master_password_wo_version: int | None = None


class ServiceDatabase(pulumi.ComponentResource):
    cluster_arn: pulumi.Output[str]
    """ARN of the Aurora cluster."""
    cluster_resource_id: pulumi.Output[str]
    """The cluster's resource id (`cluster-...`), which `rds-db:connect` ARNs name."""
    endpoint: pulumi.Output[str]
    """This cluster's writer endpoint host name (port 5432)."""
    global_writer_endpoint: pulumi.Output[str] | None
    """The global writer endpoint, which follows the writer across regions (a global database's primary only)."""
    security_group_id: pulumi.Output[str]
    """The database's security group (5432 from the service's tasks only)."""
    master_secret_arn: pulumi.Output[str | None] | None
    """Master secret: RDS-managed, or `<env>/<service>/db-master` in a global primary; None in a secondary."""
    global_cluster_identifier: pulumi.Output[str] | None
    """The global database's identifier (its primary only; the standby joins it)."""

    def __init__(self, name: str, args: ServiceDatabaseArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("microservices:data:ServiceDatabase", name, None, opts)
        identifier = cluster_identifier(args.environment, args.service)
        tags = dict(args.tags)
        child = pulumi.ResourceOptions(parent=self)

        self.security_group = ec2.SecurityGroup(
            f"{name}-sg", vpc_id=args.vpc_id, description=f"{identifier} Aurora: PostgreSQL from its service's tasks",
            tags={**tags, "Name": f"{identifier}-db"}, opts=child)
        vpc_rules.SecurityGroupIngressRule(
            f"{name}-from-tasks", security_group_id=self.security_group.id,
            referenced_security_group_id=args.task_security_group_id, ip_protocol="tcp", from_port=POSTGRES_PORT,
            to_port=POSTGRES_PORT, description=f"PostgreSQL from {args.service} tasks", opts=child)
        vpc_rules.SecurityGroupEgressRule(
            f"{name}-tasks-to-db", security_group_id=args.task_security_group_id,
            referenced_security_group_id=self.security_group.id, ip_protocol="tcp", from_port=POSTGRES_PORT,
            to_port=POSTGRES_PORT, description=f"PostgreSQL to the {identifier} database", opts=child)
        subnet_group = rds.SubnetGroup(f"{name}-subnets", name=identifier, subnet_ids=args.subnet_ids,
                                       description=f"{identifier}: private subnets", tags=tags, opts=child)

        self.global_cluster_identifier = None
        self.global_writer_endpoint = None
        self.master_secret_arn = None
        credentials = _Credentials()
        global_id: pulumi.Input[str] | None = None
        if isinstance(args.global_role, GlobalPrimary):
            global_cluster = rds.GlobalCluster(
                f"{name}-global", global_cluster_identifier=identifier, engine=ENGINE,
                engine_version=args.engine_version, database_name=args.spec.database_name, storage_encrypted=True,
                deletion_protection=args.deletion_protection, opts=child)
            global_id = global_cluster.global_cluster_identifier
            self.global_cluster_identifier = global_cluster.global_cluster_identifier
            self.global_writer_endpoint = global_cluster.endpoint
            credentials = self._written_master_password(name, args, identifier, child)
        elif isinstance(args.global_role, GlobalSecondary):
            global_id = args.global_role.global_cluster_identifier
        else:
            credentials = _Credentials(master_username=MASTER_USERNAME, manage_master_user_password=True,
                                       master_user_secret_kms_key_id=args.kms_key_arn,
                                       database_name=args.spec.database_name)

        parameter_group = None
        if args.global_rpo_seconds is not None:
            # Every cluster of the global database carries it, so it holds after a failover too.
            parameter_group = rds.ClusterParameterGroup(
                f"{name}-parameters", name=f"{identifier}-global", family=parameter_family(args.engine_version),
                description=f"{identifier}: managed RPO of the global database",
                parameters=[{"name": "rds.global_db_rpo", "value": str(args.global_rpo_seconds),
                             "apply_method": "immediate"}], tags=tags, opts=child)
        self.cluster = rds.Cluster(
            f"{name}-cluster", cluster_identifier=identifier, engine=ENGINE, engine_mode="provisioned",
            engine_version=args.engine_version, global_cluster_identifier=global_id,
            db_subnet_group_name=subnet_group.name, vpc_security_group_ids=[self.security_group.id],
            port=POSTGRES_PORT, storage_encrypted=True, kms_key_id=args.kms_key_arn,
            db_cluster_parameter_group_name=parameter_group.name if parameter_group is not None else None,
            iam_database_authentication_enabled=True,
            serverlessv2_scaling_configuration=args.scaling_configuration(),
            backup_retention_period=args.backup_retention_days, preferred_backup_window="02:00-03:00",
            copy_tags_to_snapshot=True, deletion_protection=args.deletion_protection,
            skip_final_snapshot=not args.deletion_protection,
            final_snapshot_identifier=final_snapshot_name(identifier, self.security_group.id)
            if args.deletion_protection else None, auto_minor_version_upgrade=False,
            tags=tags, master_username=credentials.master_username,
            manage_master_user_password=credentials.manage_master_user_password,
            master_user_secret_kms_key_id=credentials.master_user_secret_kms_key_id,
            database_name=credentials.database_name, master_password_wo=credentials.master_password_wo,
            master_password_wo_version=credentials.master_password_wo_version,
            # A secondary's replication source is set by the global database, and the cluster joins it once.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["replicationSourceIdentifier",
                                                                     "globalClusterIdentifier"]
                                        if args.global_role is not None else None))
        if not is_headless(args.global_role):
            rds.ClusterInstance(
                f"{name}-writer", identifier=f"{identifier}-1", cluster_identifier=self.cluster.id,
                instance_class="db.serverless", engine=rds.EngineType(ENGINE),
                db_subnet_group_name=subnet_group.name, publicly_accessible=False,
                performance_insights_enabled=args.performance_insights,
                performance_insights_kms_key_id=args.kms_key_arn if args.performance_insights else None,
                performance_insights_retention_period=PERFORMANCE_INSIGHTS_RETENTION_DAYS
                if args.performance_insights else None, auto_minor_version_upgrade=False, tags=tags, opts=child)

        if credentials.manage_master_user_password:
            self.master_secret_arn = self.cluster.master_user_secrets.apply(
                lambda secrets: (secrets[0].secret_arn if hasattr(secrets[0], "secret_arn")
                                 else secrets[0].get("secret_arn")) if secrets else None)
        self.cluster_arn = self.cluster.arn
        self.cluster_resource_id = self.cluster.cluster_resource_id
        self.endpoint = self.cluster.endpoint
        self.security_group_id = self.security_group.id
        self.register_outputs({"clusterArn": self.cluster_arn, "endpoint": self.endpoint,
                               "securityGroupId": self.security_group_id})

    def _written_master_password(self, name: str, args: ServiceDatabaseArgs, identifier: str,
                                 child: pulumi.ResourceOptions) -> _Credentials:
        """Master password for a global database's primary, where RDS cannot manage it (module docstring)."""
        password = secretsmanager.get_random_password_output(
            password_length=40, exclude_punctuation=True,
            opts=pulumi.InvokeOutputOptions(parent=self)).random_password
        secret = secretsmanager.Secret(
            f"{name}-master", name=f"{args.environment}/{args.service}/db-master", kms_key_id=args.kms_key_arn,
            description=f"{identifier} master user (break-glass; applications use IAM authentication)",
            recovery_window_in_days=30, replicas=[{"region": args.replica_region,
                                                   "kms_key_id": "alias/aws/secretsmanager"}], opts=child)
        secretsmanager.SecretVersion(
            f"{name}-master", secret_id=secret.id,
            secret_string_wo=pulumi.Output.secret(password).apply(
                lambda p: f'{{"username": "{MASTER_USERNAME}", "password": "{p}"}}'),
            secret_string_wo_version=args.master_password_version, opts=child)
        self.master_secret_arn = secret.arn
        return _Credentials(master_username=MASTER_USERNAME, master_password_wo=pulumi.Output.secret(password),
                            master_password_wo_version=args.master_password_version)
