"""ServiceData: everything one service owns for its data and events in one region.

Its table (or, in a prod standby, the primary-owned replica it reads), its database, one subscription
queue per publisher it consumes, its outbox pipe, the task-role policy that names exactly those, backlog
scaling next to CPU and memory, and the alarms once the platform has an alert topic.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_aws.appautoscaling as appautoscaling
import pulumi_aws.cloudwatch as cloudwatch
import pulumi_aws.iam as iam

from components.core.contract import EventBusRefs, PlatformRefs
from components.data.access import ServiceDataScope, database_user_arn, task_role_statements
from components.data.database import (
    GlobalPrimary,
    GlobalSecondary,
    ServiceDatabase,
    ServiceDatabaseArgs,
    is_headless,
)
from components.data.names import cluster_identifier, database_user, table_name
from components.data.spec import DataAndEvents, DynamoDbData, PostgresData, event_source
from components.data.table import ServiceTable, ServiceTableArgs, TableReplica
from components.events import alarms
from components.events.bus import EventSubscription, EventSubscriptionArgs
from components.events.documents import dead_letter_queue_name, outbox_pipe_name, subscription_name
from components.events.outbox import OutboxPipe, OutboxPipeArgs
from components.events.scaling import backlog_scaling_policy


@dataclass(frozen=True)
class ReplicaTable:
    """A prod standby's view of its service's table: the replica the primary owns, from the primary's outputs."""

    name: pulumi.Input[str]
    arn: pulumi.Input[str]
    stream_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]


@dataclass(frozen=True)
class Replication:
    """A replicated environment: the other region of the pair and the RPO the lag alarms watch."""

    peer_region: str
    rpo_seconds: int


@dataclass(frozen=True)
class DatabaseSettings:
    min_capacity: float
    backup_retention_days: int
    deletion_protection: bool
    performance_insights: bool
    global_role: GlobalPrimary | GlobalSecondary | None = None


@dataclass(frozen=True)
class ServiceDataArgs:
    """platform: the region's refs. spec: the catalog's data and events of `service`.
    task_role_name / task_security_group_id / scaling_target / ecs_service_name: from the MeshService.
    table_replica: replicate a created table there (a replicating primary). replica_table: use the primary's
    replica instead of creating a table (a replicating standby). database: how the database runs here.
    outbox_state: RUNNING in the region that takes writes, STOPPED in a standby that reads replicas.
    """

    platform: PlatformRefs
    service: str
    spec: DataAndEvents
    task_role_name: pulumi.Input[str]
    task_security_group_id: pulumi.Input[str]
    scaling_target: appautoscaling.Target
    ecs_service_name: pulumi.Input[str]
    database: DatabaseSettings
    deletion_protection: bool
    table_replica: TableReplica | None = None
    replica_table: ReplicaTable | None = None
    outbox_state: Literal["RUNNING", "STOPPED"] = "RUNNING"
    replication: Replication | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.table_replica is not None and self.replica_table is not None:
            raise ValueError("ServiceDataArgs: a stack either owns the table (and its replica) or reads a replica")
        if self.replica_table is not None and not isinstance(self.spec.data, DynamoDbData):
            raise ValueError(f"ServiceDataArgs: {self.service} has no DynamoDB table to read a replica of")
        if (self.spec.publishes or self.spec.subscribes) and self.platform.event_bus is None:
            raise ValueError(f"ServiceDataArgs: {self.service} publishes or subscribes, but the platform refs "
                             "carry no event bus")


class ServiceData(pulumi.ComponentResource):
    table_name: pulumi.Output[str] | None
    """The service's table (or replica) name, None without a table."""
    table_arn: pulumi.Output[str] | None
    """The service's table (or replica) ARN in this region."""
    table_replicas: pulumi.Output[dict[str, Any]] | None
    """Replica region -> {arn, streamArn} of a table this stack owns; None otherwise."""
    database: ServiceDatabase | None
    """The service's database, None without one."""
    queues: dict[str, EventSubscription]
    """Publisher -> the subscription that feeds this service's queue."""

    def __init__(self, name: str, args: ServiceDataArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("microservices:data:ServiceData", name, None, opts)
        refs, spec, tags = args.platform, args.spec, {**args.tags, "service": args.service}
        child = pulumi.ResourceOptions(parent=self)
        self.table_name = self.table_arn = self.table_replicas = None
        self.database = None
        table_key: pulumi.Input[str] | None = None
        stream_arn: pulumi.Input[str] | None = None

        if isinstance(spec.data, DynamoDbData):
            if args.replica_table is not None:
                replica = args.replica_table
                self.table_name = pulumi.Output.from_input(replica.name)
                self.table_arn = pulumi.Output.from_input(replica.arn)
                table_key, stream_arn = replica.kms_key_arn, replica.stream_arn
            else:
                table = ServiceTable(f"{name}-table", ServiceTableArgs(
                    environment=refs.environment, service=args.service, spec=spec.data, kms_key_arn=refs.kms_key_arn,
                    deletion_protection=args.deletion_protection, replica=args.table_replica, tags=tags), child)
                self.table_name, self.table_arn = table.table_name, table.table_arn
                self.table_replicas = table.replica_arns
                table_key, stream_arn = refs.kms_key_arn, table.table.stream_arn
        elif isinstance(spec.data, PostgresData):
            settings = args.database
            self.database = ServiceDatabase(f"{name}-database", ServiceDatabaseArgs(
                environment=refs.environment, service=args.service, spec=spec.data, vpc_id=refs.network.vpc_id,
                subnet_ids=refs.network.private_subnet_ids, task_security_group_id=args.task_security_group_id,
                kms_key_arn=refs.kms_key_arn, min_capacity=settings.min_capacity,
                backup_retention_days=settings.backup_retention_days,
                deletion_protection=settings.deletion_protection, performance_insights=settings.performance_insights,
                global_role=settings.global_role, global_rpo_seconds=args.replication.rpo_seconds
                if args.replication is not None and settings.global_role is not None else None, tags=tags), child)

        self.queues = {
            subscription.source: EventSubscription(f"{name}-from-{subscription.source}", EventSubscriptionArgs(
                environment=refs.environment, subscriber=args.service, source=subscription.source,
                detail_types=subscription.detail_types, bus_name=_bus(refs).name, kms_key_arn=refs.kms_key_arn,
                max_receives=subscription.max_receives, tags=tags), child)
            for subscription in spec.subscribes}

        if spec.has_outbox:
            if stream_arn is None or table_key is None:  # DataAndEvents requires a table for an outbox
                raise ValueError(f"{name}: an outbox needs the service's table stream and key")
            self.outbox = OutboxPipe(f"{name}-outbox", OutboxPipeArgs(
                environment=refs.environment, service=args.service, detail_types=spec.publishes,
                account_id=refs.account_id, region=refs.region, stream_arn=stream_arn, table_key_arn=table_key,
                bus_arn=_bus(refs).arn, queue_key_arn=refs.kms_key_arn,
                permissions_boundary_arn=refs.permissions_boundary_arn, desired_state=args.outbox_state,
                tags=tags), child)

        self._task_role_policy(name, args, table_key, child)
        if self.queues:
            queue_names = [subscription_name(refs.environment, args.service, s.source) for s in spec.subscribes]
            backlog_scaling_policy(f"{name}-scale-backlog", queue_names, refs.cluster.name, args.ecs_service_name,
                                   args.scaling_target, opts=child)
        if refs.alarm_topic_arn is not None:
            for alarm in self.alarm_specs(args):
                cloudwatch.MetricAlarm(f"{name}-{alarm.name}", **alarms.metric_alarm_args(alarm, refs.alarm_topic_arn),
                                       opts=child)
        self.register_outputs({"tableName": self.table_name, "tableArn": self.table_arn})

    @staticmethod
    def alarm_specs(args: ServiceDataArgs) -> list[alarms.AlarmSpec]:
        """The alarms this service's data and events need (created once the platform has an alert topic)."""
        environment, spec = args.platform.environment, args.spec
        specs = []
        for subscription in spec.subscribes:
            queue = subscription_name(environment, args.service, subscription.source)
            specs += alarms.queue_alarms(queue, dead_letter_queue_name(queue))
        if spec.has_outbox:
            specs.append(alarms.dead_letter_alarm(dead_letter_queue_name(outbox_pipe_name(environment, args.service))))
        if isinstance(spec.data, DynamoDbData):
            specs += alarms.table_alarms(table_name(environment, args.service))
            if args.replication is not None:
                specs.append(alarms.table_replication_alarm(table_name(environment, args.service),
                                                            args.replication.peer_region, args.replication.rpo_seconds))
        # A headless secondary has no instance to publish its CPU, ACUs, connections or lag [unconfirmed for
        # the lag]: alarms on it could never leave OK. The reader a drill adds brings them back.
        if isinstance(spec.data, PostgresData) and not is_headless(args.database.global_role):
            specs += alarms.database_alarms(cluster_identifier(environment, args.service))
            if args.replication is not None and args.database.global_role is not None:
                specs += alarms.global_database_alarms(cluster_identifier(environment, args.service),
                                                       args.replication.rpo_seconds)
        return specs

    def _task_role_policy(self, name: str, args: ServiceDataArgs, table_key: pulumi.Input[str] | None,
                          child: pulumi.ResourceOptions) -> None:
        """Exactly this service's table and indexes, queues, bus (as itself) and database user."""
        refs, spec = args.platform, args.spec
        if not (spec.data or spec.subscribes or spec.publishes):
            return
        index_names = tuple(i.name for i in spec.data.indexes) if isinstance(spec.data, DynamoDbData) else ()

        def document(values: list[Any]) -> str:
            account, platform_key, table_arn, key, queue_arns, bus_arn, cluster_resource_id = values
            scope = ServiceDataScope(
                partition="aws", region=refs.region, account_id=account, table_arn=table_arn,
                index_names=index_names, table_key_arn=key if table_arn else None, queue_arns=tuple(queue_arns),
                queue_key_arn=platform_key if queue_arns else None, bus_arn=bus_arn,
                event_source=event_source(args.service) if bus_arn else None,
                database_user_arn=database_user_arn("aws", refs.region, account, cluster_resource_id,
                                                    database_user(args.service)) if cluster_resource_id else None)
            return json.dumps({"Version": "2012-10-17", "Statement": task_role_statements(scope)})

        policy = pulumi.Output.all(
            refs.account_id, refs.kms_key_arn, self.table_arn, table_key,
            pulumi.Output.all(*[q.queue_arn for q in self.queues.values()]),
            _bus(refs).arn if spec.publishes else None,
            self.database.cluster_resource_id if self.database else None).apply(document)
        iam.RolePolicy(f"{name}-task-data", role=args.task_role_name, policy=policy, opts=child)


def _bus(refs: PlatformRefs) -> EventBusRefs:
    if refs.event_bus is None:
        raise ValueError("the platform contract has no event bus; create EventBus before a service's data")
    return refs.event_bus
