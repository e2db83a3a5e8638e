"""The policy documents of the alert topic, as pure functions (no Pulumi, no platform imports), so the
platform key policy (regional_platform/platform_iam.py) can admit the publishers of a topic that does not
exist yet: its ARN follows from its name. Why each condition is there: alert_routing.py.
"""

from __future__ import annotations

from typing import Any

PUBLISH_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"]
SNS_CONTEXT_KEY = "kms:EncryptionContext:aws:sns:topicArn"


def topic_arn(region: str, account_id: str, topic_name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:sns:{region}:{account_id}:{topic_name}"


def publisher_key_statements(topic: str, account_id: str, region: str) -> list[dict[str, Any]]:
    """Key-policy statements that let CloudWatch alarms, Budgets and EventBridge publish to `topic`."""
    in_topic = {SNS_CONTEXT_KEY: topic}
    return [
        {"Sid": "CloudWatchAlarmsPublishToAlertTopic", "Effect": "Allow",
         "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": PUBLISH_ACTIONS, "Resource": "*",
         "Condition": {"StringEquals": {**in_topic, "aws:SourceAccount": account_id},
                       "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{region}:{account_id}:alarm:*"}}},
        budgets_key_statement(topic, account_id, "BudgetsPublishToAlertTopic"),
        {"Sid": "EventBridgePublishesToAlertTopic", "Effect": "Allow",
         "Principal": {"Service": "events.amazonaws.com"}, "Action": PUBLISH_ACTIONS, "Resource": "*",
         "Condition": {"StringEquals": in_topic}},
    ]


def budgets_key_statement(topic: str, account_id: str, sid: str) -> dict[str, Any]:
    """Key-policy statement that lets AWS Budgets publish to `topic` (encrypted with the key), for this
    account's budgets only. Also used for the staging scale-down topic (components/cost/budget_scale_down.py)."""
    return {"Sid": sid, "Effect": "Allow", "Principal": {"Service": "budgets.amazonaws.com"},
            "Action": PUBLISH_ACTIONS, "Resource": "*",
            "Condition": {"StringEquals": {SNS_CONTEXT_KEY: topic, "aws:SourceAccount": account_id},
                          "ArnLike": {"aws:SourceArn": f"arn:aws:budgets::{account_id}:*"}}}


def budgets_publish_statement(topic: str, account_id: str, sid: str = "BudgetsPublish") -> dict[str, Any]:
    """Topic-policy statement: this account's budgets may publish to `topic`."""
    return {"Sid": sid, "Effect": "Allow", "Principal": {"Service": "budgets.amazonaws.com"}, "Action": "sns:Publish",
            "Resource": topic, "Condition": {"StringEquals": {"aws:SourceAccount": account_id},
                                             "ArnLike": {"aws:SourceArn": f"arn:aws:budgets::{account_id}:*"}}}


def deny_publish_without_tls(topic: str) -> dict[str, Any]:
    return {"Sid": "DenyPublishWithoutTls", "Effect": "Deny", "Principal": "*", "Action": "sns:Publish",
            "Resource": topic, "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def topic_policy(topic: str, account_id: str, region: str) -> dict[str, Any]:
    """Who may publish: the three services, only for this account's alarms, budgets and rules; TLS only.

    The account's own principals need no statement here: same-account IAM policies suffice.
    Sources: Amazon SNS "Example cases for Amazon SNS access control" (aws:SourceAccount / aws:SourceArn),
    AWS Budgets "Creating an Amazon SNS topic for budget notifications", EventBridge "Amazon SNS
    permissions".
    """
    def publisher(sid: str, service: str, source_arn: str) -> dict[str, Any]:
        return {"Sid": sid, "Effect": "Allow", "Principal": {"Service": service}, "Action": "sns:Publish",
                "Resource": topic, "Condition": {"StringEquals": {"aws:SourceAccount": account_id},
                                                 "ArnLike": {"aws:SourceArn": source_arn}}}

    return {"Version": "2012-10-17", "Statement": [
        publisher("CloudWatchAlarmsPublish", "cloudwatch.amazonaws.com",
                  f"arn:aws:cloudwatch:{region}:{account_id}:alarm:*"),
        budgets_publish_statement(topic, account_id),
        publisher("EventBridgeRulesPublish", "events.amazonaws.com", f"arn:aws:events:{region}:{account_id}:rule/*"),
        deny_publish_without_tls(topic),
    ]}
