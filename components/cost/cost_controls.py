"""Account-wide cost controls: cost allocation tags activated, and a cost anomaly monitor with its subscription.

Both are per-account singletons (Cost Explorer is global), so exactly one stack per account owns them
(`costControls.owner`, checked across stacks by foundation/settings/cross_stack.py). Activating a tag
works only from the management account or a standalone account, and only after the tag has appeared on
a resource (up to 24 h): https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/activating-tags.html
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws.costexplorer as ce

# AnomalySubscription: IMMEDIATE alerts go to SNS only; DAILY/WEEKLY summaries go to email (at most 10).
# https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_AnomalySubscription.html
MAX_EMAIL_SUBSCRIBERS = 10
TAG_KEY = re.compile(r"^[\w .:/=+\-@]{1,128}$")


@dataclass(frozen=True)
class CostControlsArgs:
    name: str
    # The cost allocation tags budgets and Cost Explorer group by (the provider's default tag keys).
    tag_keys: Sequence[str]
    alert_emails: Sequence[str] = field(default_factory=tuple)
    alert_topic_arn: pulumi.Input[str] | None = None
    # Alert when an anomaly's total impact reaches this many USD.
    anomaly_threshold_usd: float = 20.0
    # Activation fails until the keys appear in billing data, and outside an organization's management
    # account: a second step (README "Deploy-time traps").
    activate_tags: bool = False
    # The account's existing AWS services monitor, used instead of creating one (README "Deploy-time traps").
    existing_monitor_arn: str | None = None

    def __post_init__(self) -> None:
        if not self.tag_keys or any(not TAG_KEY.fullmatch(key) for key in self.tag_keys):
            raise ValueError(f"cost allocation tag keys must be 1-128 tag characters: {list(self.tag_keys)}")
        if not self.alert_emails and self.alert_topic_arn is None:
            raise ValueError("the anomaly subscription needs alert emails or an alert topic")
        if len(self.alert_emails) > MAX_EMAIL_SUBSCRIBERS:
            raise ValueError(f"at most {MAX_EMAIL_SUBSCRIBERS} anomaly alert emails")
        if not self.anomaly_threshold_usd > 0:
            raise ValueError("the anomaly threshold must be a positive amount of USD")


def anomaly_threshold(usd: float) -> ce.AnomalySubscriptionThresholdExpressionArgsDict:
    """Alert on anomalies whose total impact is at least ``usd`` (ThresholdExpression)."""
    return {"dimension": {"key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE", "match_options": ["GREATER_THAN_OR_EQUAL"],
                          "values": [f"{usd:g}"]}}


class CostControls(pulumi.ComponentResource):
    monitor_arn: pulumi.Output[str]
    """ARN of the account's service-dimension cost anomaly monitor."""

    def __init__(self, name: str, args: CostControlsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("microservices:platform:CostControls", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if args.activate_tags:
            for key in args.tag_keys:
                ce.CostAllocationTag(f"{name}-tag-{key}", tag_key=key, status="Active", opts=child)
        monitor_arn: pulumi.Input[str]
        if args.existing_monitor_arn is not None:
            monitor_arn = args.existing_monitor_arn
        else:
            monitor_arn = ce.AnomalyMonitor(f"{name}-services", name=f"{args.name}-services",
                                            monitor_type="DIMENSIONAL", monitor_dimension="SERVICE", opts=child).arn
        threshold = anomaly_threshold(args.anomaly_threshold_usd)
        if args.alert_emails:
            ce.AnomalySubscription(
                f"{name}-daily", name=f"{args.name}-daily", frequency="DAILY", monitor_arn_lists=[monitor_arn],
                subscribers=[{"type": "EMAIL", "address": email} for email in args.alert_emails],
                threshold_expression=threshold, opts=child)
        if args.alert_topic_arn is not None:
            # The topic's policy must let costalerts.amazonaws.com publish.
            ce.AnomalySubscription(
                f"{name}-immediate", name=f"{args.name}-immediate", frequency="IMMEDIATE",
                monitor_arn_lists=[monitor_arn], subscribers=[{"type": "SNS", "address": args.alert_topic_arn}],
                threshold_expression=threshold, opts=child)
        self.monitor_arn = pulumi.Output.from_input(monitor_arn)
        self.register_outputs({"monitorArn": self.monitor_arn})
