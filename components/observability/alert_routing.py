"""AlertRouting: the SNS topic every alarm a person must act on notifies, encrypted with a KMS key.

Service publishers cannot use the AWS managed key `alias/aws/sns`: CloudWatch, Budgets and EventBridge
need `kms:GenerateDataKey` and `kms:Decrypt` on a customer managed key ("Key management", Amazon SNS
developer guide, "Enable compatibility between event sources from AWS services and encrypted topics").
`publisher_key_statements` returns exactly those grants, each held to this topic through the encryption
context SNS binds to its data keys (`kms:EncryptionContext:aws:sns:topicArn`) and, where the service
sends them, to this account's sources (`aws:SourceAccount`, `aws:SourceArn`). EventBridge gets no
source conditions: its deliveries to encrypted topics do not carry them to KMS, and AWS's own example
(EventBridge troubleshooting, "my rule ran but my Amazon SNS topic wasn't invoked") has none.
The actions are spelled out (`kms:GenerateDataKey`, not `kms:GenerateDataKey*`): the pack's
no-wildcard-iam policy refuses partial wildcards, and SNS asks only for GenerateDataKey.

The topic ARN is computed from its name (`arn:<partition>:sns:<region>:<account>:<name>`), so the key
policy of an existing platform key can name the topic without depending on it.

With `kms_key_arn=None` the component creates its own key (used for the us-east-1 copy that carries the
Route 53 health-check alarms, see failover_alarms.py): a key must live in the topic's region.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws.kms as kms
import pulumi_aws.sns as sns

from components.observability.alert_policies import PUBLISH_ACTIONS, publisher_key_statements, topic_arn, topic_policy
from components.regional_platform.platform_iam import KEY_ADMIN_ACTIONS

COMPONENT_TYPE = "microservices:observability:AlertRouting"
# CreateTopic: "Topic names must be made up of only uppercase and lowercase ASCII letters, numbers,
# underscores, and hyphens, and must be between 1 and 256 characters long."
TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")


@dataclass(frozen=True)
class AlertDestination:
    """Where alarms page: the topic's ARN (for alarm actions) and its name (for people and the preview)."""

    topic_arn: pulumi.Input[str]
    topic_name: str
    region: str


def own_key_policy(topic: str, account_id: str, region: str) -> dict[str, Any]:
    """Policy of a key that exists only for this topic: the account administers it, the publishers use it."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "AccountAdministersKeyThroughIam", "Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
         "Action": KEY_ADMIN_ACTIONS + PUBLISH_ACTIONS, "Resource": "*"},
        *publisher_key_statements(topic, account_id, region),
    ]}


@dataclass(frozen=True)
class AlertRoutingArgs:
    """topic_name: unique per account and region, e.g. `prod-alerts`.
    resource_region: set on every child (`region=`) when the topic lives outside the provider's region
        (the us-east-1 copy); None uses the provider's region, which must then equal `region`.
    kms_key_arn: the platform key of `region`, whose policy the caller extends with
        `publisher_key_statements`; None creates a dedicated key in `region`.
    emails / https_endpoint: the subscribers (`alerts` settings); emails must confirm the subscription.
    """

    topic_name: str
    region: str
    account_id: pulumi.Input[str]
    emails: tuple[str, ...]
    kms_key_arn: pulumi.Input[str] | None = None
    https_endpoint: str | None = None
    resource_region: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = []
        if not TOPIC_NAME.fullmatch(self.topic_name):
            problems.append(f"topic name {self.topic_name!r} must be 1-256 letters, digits, '_' or '-'")
        bad = [email for email in self.emails if not EMAIL.fullmatch(email)]
        if bad:
            problems.append(f"not e-mail addresses: {bad}")
        if self.https_endpoint is not None and not self.https_endpoint.startswith("https://"):
            problems.append(f"the HTTPS endpoint must start with https://, got {self.https_endpoint!r}")
        if self.resource_region is not None and self.resource_region != self.region:
            problems.append("resource_region, when given, is the topic's region")
        if problems:
            raise ValueError("AlertRoutingArgs: " + "; ".join(problems))


class AlertRouting(pulumi.ComponentResource):
    topic_arn: pulumi.Output[str]
    """ARN of the alert topic, the action of every paging alarm."""
    topic_name: pulumi.Output[str]
    """Name of the alert topic."""
    kms_key_arn: pulumi.Output[str]
    """The key that encrypts the topic (the given platform key, or the component's own)."""

    def __init__(self, name: str, args: AlertRoutingArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(COMPONENT_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        arn = pulumi.Output.from_input(args.account_id).apply(
            lambda account: topic_arn(args.region, account, args.topic_name))

        key_arn = args.kms_key_arn
        if key_arn is None:
            key = kms.Key(
                f"{name}-key", description=f"Encrypts the alert topic {args.topic_name} ({args.region})",
                enable_key_rotation=True, deletion_window_in_days=30,
                policy=pulumi.Output.all(arn, args.account_id).apply(
                    lambda values: json.dumps(own_key_policy(values[0], values[1], args.region))),
                tags=dict(args.tags), opts=child, region=args.resource_region)
            kms.Alias(f"{name}-key", name=f"alias/{args.topic_name}", target_key_id=key.key_id, opts=child,
                      region=args.resource_region)
            key_arn = key.arn

        self._topic = sns.Topic(f"{name}-topic", name=args.topic_name, kms_master_key_id=key_arn,
                                tags=dict(args.tags), opts=child, region=args.resource_region)
        sns.TopicPolicy(f"{name}-policy", arn=self._topic.arn, policy=pulumi.Output.all(
            self._topic.arn, args.account_id).apply(
                lambda values: json.dumps(topic_policy(values[0], values[1], args.region))), opts=child, region=args.resource_region)
        for email in args.emails:
            # Named after the address, so reordering the list replaces nothing.
            slug = re.sub(r"[^a-z0-9]+", "-", email.lower()).strip("-")
            sns.TopicSubscription(f"{name}-email-{slug}", topic=self._topic.arn, protocol="email", endpoint=email,
                                  opts=child, region=args.resource_region)
        if args.https_endpoint:
            sns.TopicSubscription(f"{name}-https", topic=self._topic.arn, protocol="https",
                                  endpoint=args.https_endpoint, endpoint_auto_confirms=False, opts=child, region=args.resource_region)

        self.topic_arn = self._topic.arn
        self.topic_name = self._topic.name
        self.kms_key_arn = pulumi.Output.from_input(key_arn)
        self.destination = AlertDestination(topic_arn=self.topic_arn, topic_name=args.topic_name, region=args.region)
        self.register_outputs({"topicArn": self.topic_arn, "topicName": self.topic_name,
                               "kmsKeyArn": self.kms_key_arn})
