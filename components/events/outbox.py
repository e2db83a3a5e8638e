"""OutboxPipe: the transactional outbox without application code.

A service writes its state change and an outbox item in one DynamoDB transaction (TransactWriteItems);
the table's stream feeds this EventBridge Pipe, whose filter passes only new outbox items of the detail
types the service declares, and whose target puts them on the environment's bus under the service's
source. The item shape and the delivery guarantees are in docs/events.md ("Outbox item").

In a standby stack the pipe reads the replica's stream and is created STOPPED: replicated outbox items are
already published in the primary region; the Region switch plan starts it when the standby takes writes
(components/failover/region_actions.py) and stops the other region's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_aws.iam as iam
import pulumi_aws.pipes as pipes
import pulumi_aws.sqs as sqs

from components.data.access import PipeScope, pipe_role_policy, pipe_trust_policy
from components.data.spec import event_source
from components.events import documents
from components.events.bus import DATA_KEY_REUSE_SECONDS, DLQ_RETENTION_SECONDS


@dataclass(frozen=True)
class OutboxPipeArgs:
    """stream_arn / table_key_arn: the table's (or replica's) stream and the key encrypting it.
    bus_arn: the environment's bus in this region. queue_key_arn: the platform key (the pipe's DLQ).
    permissions_boundary_arn: the platform boundary (it must contain access.boundary_statements).
    desired_state: RUNNING in the primary, STOPPED in a standby."""

    environment: str
    service: str
    detail_types: Sequence[str]
    account_id: pulumi.Input[str]
    region: str
    stream_arn: pulumi.Input[str]
    table_key_arn: pulumi.Input[str]
    bus_arn: pulumi.Input[str]
    queue_key_arn: pulumi.Input[str]
    permissions_boundary_arn: pulumi.Input[str]
    desired_state: Literal["RUNNING", "STOPPED"] = "RUNNING"
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.detail_types:
            raise ValueError("OutboxPipeArgs: a pipe for a service that publishes nothing would publish nothing")
        documents.outbox_pipe_name(self.environment, self.service)


class OutboxPipe(pulumi.ComponentResource):
    pipe_arn: pulumi.Output[str]
    """ARN of the pipe."""
    dead_letter_queue_name: pulumi.Output[str]
    """Name of the queue that receives batches the pipe gave up on (alarm dimension)."""

    def __init__(self, name: str, args: OutboxPipeArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("microservices:events:OutboxPipe", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        pipe_name = documents.outbox_pipe_name(args.environment, args.service)
        dlq = sqs.Queue(f"{name}-dlq", name=documents.dead_letter_queue_name(pipe_name),
                        message_retention_seconds=DLQ_RETENTION_SECONDS,
                        kms_master_key_id=args.queue_key_arn, kms_data_key_reuse_period_seconds=DATA_KEY_REUSE_SECONDS,
                        tags=dict(args.tags), opts=child)
        role = iam.Role(
            f"{name}-role", permissions_boundary=args.permissions_boundary_arn,
            assume_role_policy=pulumi.Output.from_input(args.account_id).apply(
                lambda account: json.dumps(pipe_trust_policy(account, args.region))),
            description=f"EventBridge Pipe {pipe_name}: table stream to the bus", tags=dict(args.tags), opts=child)
        policy = iam.RolePolicy(
            f"{name}-policy", role=role.id,
            policy=pulumi.Output.all(args.stream_arn, args.table_key_arn, args.bus_arn, dlq.arn,
                                     args.queue_key_arn).apply(
                lambda v: json.dumps(pipe_role_policy(PipeScope(
                    stream_arn=v[0], table_key_arn=v[1], bus_arn=v[2], event_source=event_source(args.service),
                    dead_letter_queue_arn=v[3], queue_key_arn=v[4])))),
            opts=child)
        source_parameters = dlq.arn.apply(
            lambda arn: documents.pulumi_keys(documents.outbox_source_parameters(args.detail_types, arn)))
        pipe = pipes.Pipe(
            f"{name}-pipe", name=pipe_name, role_arn=role.arn, source=args.stream_arn, target=args.bus_arn,
            desired_state=args.desired_state, source_parameters=source_parameters,
            target_parameters=documents.pulumi_keys(documents.outbox_target_parameters(args.service)),
            description=f"Outbox of {args.service}: new outbox items to the {args.environment} bus",
            tags=dict(args.tags),
            # The pipe validates its role's access when it is created. After that, only the Region switch plan
            # starts and stops it (docs/failover.md, "Step order"): a deployment must not undo a failover.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy], ignore_changes=["desiredState"]))
        self.pipe_arn = pipe.arn
        self.dead_letter_queue_name = dlq.name
        self.register_outputs({"pipeArn": self.pipe_arn})
