"""Compose a stack's data and events: the environment's bus in this region, each service's ServiceData, and
the outputs the standby reads (`dataTables`, `databases`).

Which stack owns what (docs/events.md, docs/runbooks/database-failover.md), where the pair replicates its
data (`failover.replicateData`; prod by default, the staging pair by its config):
  * primary: tables with a global-table replica in the standby region (encrypted with the primary-owned
    TableReplicaKey there), databases as the primary cluster of an Aurora global database.
  * standby: no table of its own; its tasks and its (stopped) outbox pipe use the replica, whose ARNs
    the primary exports; databases join the global database as secondary clusters (headless with
    `failover.standbyDatabaseReaders: 0`).
  * a pair that does not replicate: independent tables and scale-to-zero databases in both regions.
Every stack has its own bus, subscription queues and rules: services publish and consume in their region.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pulumi

from components.core.contract import EventBusRefs, PlatformRefs
from components.core.types import PRIMARY_REGION, STANDBY_REGION
from components.data.database import GlobalPrimary, GlobalSecondary, ServiceDatabase
from components.data.service_data import DatabaseSettings, ReplicaTable, Replication, ServiceData, ServiceDataArgs
from components.data.spec import DynamoDbData, PostgresData
from components.data.table import TableReplica, TableReplicaKey, TableReplicaKeyArgs, table_outputs
from components.events.bus import EventBus, EventBusArgs
from components.mesh_service import MeshService
from foundation.primary_reference import PrimaryReference, PrimaryStackContractError
from foundation.settings import StackSettings


def _primary_entry(primary: PrimaryReference, output: str, service: str, *path: str) -> pulumi.Output[str]:
    """One value of the primary's `dataTables`/`databases` output; a clear error when it is missing."""
    def pick(raw: Any) -> str:
        value = raw
        for key in (service, *path):
            if not isinstance(value, dict) or value.get(key) is None:
                raise PrimaryStackContractError(
                    f"primary stack {primary.primary_stack!r} output {output!r} has no "
                    f"{'.'.join((service, *path))}; deploy the primary with {service}'s data first")
            value = value[key]
        return str(value)
    return primary.require_output(output).apply(pick)


def writer_endpoint(primary: PrimaryReference | None, service: str, database: ServiceDatabase,
                    global_role: GlobalPrimary | GlobalSecondary | None) -> pulumi.Output[str]:
    """Where the service's application writes: the global writer endpoint of a global database (in the standby
    from the primary's outputs), else the cluster's own writer endpoint."""
    if isinstance(global_role, GlobalSecondary) and primary is not None:
        return _primary_entry(primary, "databases", service, "writerEndpoint")
    if database.global_writer_endpoint is not None:
        return database.global_writer_endpoint
    return database.endpoint


def build_data_and_events(settings: StackSettings, refs: PlatformRefs, services: dict[str, MeshService],
                          primary: PrimaryReference | None, opts: pulumi.ResourceOptions) -> dict[str, Any]:
    environment, defaults = settings.environment, settings.defaults
    replicate = settings.replicate_data
    owned = {s.name: settings.data_and_events[s.name] for s in settings.services}
    bus = EventBus(f"{environment}-events", EventBusArgs(
        environment=environment, archive_retention_days=defaults.event_archive_retention_days), opts=opts)
    refs = dataclasses.replace(refs, event_bus=EventBusRefs(name=bus.bus_name, arn=bus.bus_arn))

    replica_key = None
    if replicate and settings.role == "primary" and any(isinstance(d.data, DynamoDbData) for d in owned.values()):
        replica_key = TableReplicaKey(f"{environment}-table-replicas", TableReplicaKeyArgs(
            environment=environment, region=STANDBY_REGION, account_id=refs.account_id), opts=opts)

    tables, databases = {}, {}
    for name, spec in owned.items():
        if not (spec.data or spec.publishes or spec.subscribes):
            continue
        mesh = services[name]
        table_replica: TableReplica | None = None
        replica_table: ReplicaTable | None = None
        global_role: GlobalPrimary | GlobalSecondary | None = None
        if replicate and settings.role == "primary":
            if replica_key is not None:
                table_replica = TableReplica(region=STANDBY_REGION, kms_key_arn=replica_key.key_arn)
            global_role = GlobalPrimary()
        elif replicate and primary is not None:
            if isinstance(spec.data, DynamoDbData):
                replica_table = ReplicaTable(
                    name=_primary_entry(primary, "dataTables", name, "name"),
                    arn=_primary_entry(primary, "dataTables", name, "replicas", settings.region, "arn"),
                    stream_arn=_primary_entry(primary, "dataTables", name, "replicas", settings.region, "streamArn"),
                    kms_key_arn=_primary_entry(primary, "dataTables", name, "replicaKeyArn"))
            if isinstance(spec.data, PostgresData):
                global_role = GlobalSecondary(_primary_entry(primary, "databases", name, "globalClusterIdentifier"),
                                              readers=settings.config.failover.standby_database_readers)
        data = ServiceData(f"{environment}-{name}-data", ServiceDataArgs(
            platform=refs, service=name, spec=spec, task_role_name=mesh.roles.task_role.name,
            task_security_group_id=mesh.security_group_id, scaling_target=mesh.scaling_target,
            ecs_service_name=mesh.service_name,
            database=DatabaseSettings(
                min_capacity=defaults.database_min_capacity if global_role is None else max(
                    defaults.database_min_capacity, 0.5),
                backup_retention_days=defaults.database_backup_retention_days,
                deletion_protection=defaults.deletion_protection,
                performance_insights=defaults.database_performance_insights, global_role=global_role),
            deletion_protection=defaults.deletion_protection, table_replica=table_replica,
            replica_table=replica_table, outbox_state="STOPPED" if replica_table is not None else "RUNNING",
            replication=Replication(peer_region=STANDBY_REGION if settings.role == "primary" else PRIMARY_REGION,
                                    rpo_seconds=settings.config.failover.rpo_seconds) if replicate else None),
            opts=opts)
        if (isinstance(spec.data, DynamoDbData) and replica_table is None and data.table_name is not None
                and data.table_arn is not None and data.table_replicas is not None):
            tables[name] = table_outputs(data.table_name, data.table_arn, data.table_replicas,
                                         replica_key.key_arn if replica_key else None)
        if data.database is not None:
            databases[name] = pulumi.Output.all(
                clusterArn=data.database.cluster_arn, endpoint=data.database.endpoint,
                globalClusterIdentifier=data.database.global_cluster_identifier,
                writerEndpoint=writer_endpoint(primary, name, data.database, global_role))
    return {"eventBusName": bus.bus_name, "eventBusArn": bus.bus_arn, "dataTables": tables, "databases": databases}
