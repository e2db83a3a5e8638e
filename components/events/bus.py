"""EventBus (one per environment and region, with an archive) and EventSubscription (one per subscriber
and publishing service: a KMS-encrypted SQS queue with a dead-letter queue, and the rule that feeds it).

Each subscription's rule matches the publisher's source and the subscribed detail types; its target is
the queue, with its own retry policy and the subscription's DLQ as the target's dead-letter queue, so
events EventBridge cannot deliver and messages the consumer fails `maxReceives` times end in the same
place, which one alarm watches. The queue and DLQ policies admit `events.amazonaws.com` only with
`aws:SourceArn` = the rule. docs/events.md has the why.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws.cloudwatch as cloudwatch
import pulumi_aws.sqs as sqs

from components.data.spec import MAX_RECEIVES_DEFAULT
from components.events import documents

# How long messages wait: four days on the queue (SQS default), fourteen (the maximum) on the DLQ so
# that a weekend of failures can still be redriven.
QUEUE_RETENTION_SECONDS = 4 * 24 * 3600
DLQ_RETENTION_SECONDS = 14 * 24 * 3600
DATA_KEY_REUSE_SECONDS = 300
DEFAULT_ARCHIVE_RETENTION_DAYS = {"staging": 7, "prod": 90}


@dataclass(frozen=True)
class EventBusArgs:
    """environment: names the bus `<environment>-events`. archive_retention_days: 0 keeps forever."""

    environment: str
    archive_retention_days: int
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.archive_retention_days < 0:
            raise ValueError("archive_retention_days must be 0 (forever) or more")
        documents.archive_name(self.environment)


class EventBus(pulumi.ComponentResource):
    bus_name: pulumi.Output[str]
    """Name of the custom bus (the same in both regions)."""
    bus_arn: pulumi.Output[str]
    """ARN of the custom bus."""

    def __init__(self, name: str, args: EventBusArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("microservices:events:EventBus", name, None, opts)
        bus = cloudwatch.EventBus(f"{name}-bus", name=documents.bus_name(args.environment),
                                  description=f"{args.environment} service events", tags=dict(args.tags),
                                  opts=pulumi.ResourceOptions(parent=self))
        # Every event on the bus, for replay after a consumer bug (StartReplay onto the same bus).
        cloudwatch.EventArchive(f"{name}-archive", name=documents.archive_name(args.environment),
                                event_source_arn=bus.arn, retention_days=args.archive_retention_days,
                                description=f"All {args.environment} service events",
                                opts=pulumi.ResourceOptions(parent=self))
        self.bus_name = bus.name
        self.bus_arn = bus.arn
        self.register_outputs({"busName": self.bus_name, "busArn": self.bus_arn})


@dataclass(frozen=True)
class EventSubscriptionArgs:
    """subscriber: the consuming service; source: the publishing service; detail_types: what it consumes.
    bus_name: the environment's bus. kms_key_arn: the platform key (its policy must admit EventBridge,
    documents.platform_key_statement_for_events). max_receives: receives before a message is dead-lettered.
    """

    environment: str
    subscriber: str
    source: str
    detail_types: Sequence[str]
    bus_name: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    max_receives: int = MAX_RECEIVES_DEFAULT
    visibility_timeout_seconds: int = 60
    retry: documents.RetryPolicy = field(default_factory=documents.RetryPolicy)
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 1 <= self.max_receives <= 1000:
            raise ValueError(f"max_receives must be 1-1000 (SQS maxReceiveCount), got {self.max_receives}")
        documents.event_pattern(self.source, self.detail_types)
        documents.dead_letter_queue_name(documents.subscription_name(self.environment, self.subscriber, self.source))
        if not 0 <= self.visibility_timeout_seconds <= 43200:
            raise ValueError("visibility_timeout_seconds must be 0-43200 (SQS VisibilityTimeout)")


class EventSubscription(pulumi.ComponentResource):
    queue_arn: pulumi.Output[str]
    """ARN of the queue the subscriber consumes."""
    queue_name: pulumi.Output[str]
    """Name of that queue (the scaling metric's QueueName dimension)."""
    queue_url: pulumi.Output[str]
    """URL the consumer polls."""
    dead_letter_queue_arn: pulumi.Output[str]
    """ARN of the DLQ (failed receives and undeliverable events)."""
    dead_letter_queue_name: pulumi.Output[str]
    """Name of the DLQ (alarm dimension)."""
    rule_arn: pulumi.Output[str]
    """ARN of the rule that feeds the queue."""

    def __init__(self, name: str, args: EventSubscriptionArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("microservices:events:EventSubscription", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        queue_name = documents.subscription_name(args.environment, args.subscriber, args.source)
        tags = dict(args.tags)

        dlq = sqs.Queue(f"{name}-dlq", name=documents.dead_letter_queue_name(queue_name),
                        message_retention_seconds=DLQ_RETENTION_SECONDS, tags=tags, opts=child, kms_master_key_id=args.kms_key_arn,
            kms_data_key_reuse_period_seconds=DATA_KEY_REUSE_SECONDS)
        queue = sqs.Queue(
            f"{name}-queue", name=queue_name, message_retention_seconds=QUEUE_RETENTION_SECONDS,
            visibility_timeout_seconds=args.visibility_timeout_seconds,
            redrive_policy=dlq.arn.apply(lambda arn: json.dumps(documents.redrive_policy(arn, args.max_receives))),
            tags=tags, opts=child, kms_master_key_id=args.kms_key_arn,
            kms_data_key_reuse_period_seconds=DATA_KEY_REUSE_SECONDS)
        # The DLQ names its one source queue; a separate resource because queue and DLQ reference each other.
        sqs.RedriveAllowPolicy(f"{name}-dlq-sources", queue_url=dlq.url,
                               redrive_allow_policy=queue.arn.apply(
                                   lambda arn: json.dumps(documents.redrive_allow_policy(arn))), opts=child)

        rule = cloudwatch.EventRule(
            f"{name}-rule", name=queue_name, event_bus_name=args.bus_name,
            description=f"{args.source} events {', '.join(args.detail_types)} for {args.subscriber}",
            event_pattern=json.dumps(documents.event_pattern(args.source, args.detail_types)), tags=tags,
            opts=child)
        policies = [
            sqs.QueuePolicy(f"{name}-{kind}-policy", queue_url=target.url,
                            policy=pulumi.Output.all(target.arn, rule.arn).apply(
                                lambda values: json.dumps(documents.queue_policy(values[0], values[1]))),
                            opts=child)
            for kind, target in (("queue", queue), ("dlq", dlq))]
        cloudwatch.EventTarget(
            f"{name}-target", rule=rule.name, event_bus_name=args.bus_name, arn=queue.arn,
            retry_policy={"maximum_retry_attempts": args.retry.maximum_retry_attempts,
                          "maximum_event_age_in_seconds": args.retry.maximum_event_age_seconds},
            dead_letter_config={"arn": dlq.arn},
            # Without the queue policies the first deliveries fail with permission errors, which skip retries.
            opts=pulumi.ResourceOptions(parent=self, depends_on=policies))

        self.queue_arn, self.queue_name, self.queue_url = queue.arn, queue.name, queue.url
        self.dead_letter_queue_arn, self.dead_letter_queue_name = dlq.arn, dlq.name
        self.rule_arn = rule.arn
        self.register_outputs({"queueArn": self.queue_arn, "deadLetterQueueArn": self.dead_letter_queue_arn,
                               "ruleArn": self.rule_arn})
