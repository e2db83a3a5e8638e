"""A monthly AWS Budget per stack, scoped by the stack's environment tag and region.

Budgets count cost in USD (the Budgets API examples and the account's billing currency); the stack
states its budget in EUR and the conversion rate lives in platform/prices.yaml.
The tag filter needs `environment` activated as a cost allocation tag (account-wide, by the
management account); until then the budget sees no cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws.budgets as budgets

# The approval the stack-budget policy reads, as tags on the budget (one home for the keys).
from policies.cost.tags import APPROVAL_REASON_TAG, APPROVED_EUR_TAG, APPROVER_TAG

# Budget.BudgetName: 1-100 characters, neither ':' nor a backslash among them (API pattern `[^:\\]+`).
# https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_Budget.html
BUDGET_NAME_MAX = 100
BUDGET_NAME_FORBIDDEN = (":", "\\")


# Alerts the seeds ask for: forecast 80 %, actual 95 % and actual 100 % of the monthly limit.
ALERT_THRESHOLDS = (("FORECASTED", 80.0), ("ACTUAL", 95.0), ("ACTUAL", 100.0))
# Budgets allow 1 SNS topic and up to 10 email subscribers per notification.
# https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_Notification.html
MAX_EMAIL_SUBSCRIBERS = 10


@dataclass(frozen=True)
class BudgetApprovalRecord:
    """A recorded approval to exceed the budget (amount in EUR, why, who)."""

    amount_eur: float
    reason: str
    approver: str


@dataclass(frozen=True)
class StackBudgetArgs:
    name: str
    environment: str
    region: str
    monthly_usd: float
    alert_emails: Sequence[str] = field(default_factory=tuple)
    # The stack's alert topic (its key and topic policy admit budgets.amazonaws.com); None: e-mail only.
    alert_topic_arn: pulumi.Input[str] | None = None
    approval: BudgetApprovalRecord | None = None
    # The ACTUAL 100 % notification's SNS subscriber instead of the alert topic (Budgets allow one per
    # notification): the staging scale-down topic (components/cost/budget_scale_down.py). The emails still get it.
    breach_topic_arn: pulumi.Input[str] | None = None

    def __post_init__(self) -> None:
        if len(self.alert_emails) > MAX_EMAIL_SUBSCRIBERS:
            raise ValueError(f"at most {MAX_EMAIL_SUBSCRIBERS} budget alert emails")
        if not self.monthly_usd > 0:
            raise ValueError("the monthly budget must be positive")


BREACH = ("ACTUAL", 100.0)


def budget_notifications(alert_emails: Sequence[str], alert_topic_arn: pulumi.Input[str] | None,
                         breach_topic_arn: pulumi.Input[str] | None = None) -> list[budgets.BudgetNotificationArgsDict]:
    """One notification per alert threshold to the emails and the topic (the breach topic, when given, for
    ACTUAL 100 %); none without a subscriber (AWS requires at least one per notification)."""
    notifications: list[budgets.BudgetNotificationArgsDict] = []
    for kind, threshold in ALERT_THRESHOLDS:
        topic = breach_topic_arn if (kind, threshold) == BREACH and breach_topic_arn is not None else alert_topic_arn
        notification: budgets.BudgetNotificationArgsDict = {
            "comparison_operator": "GREATER_THAN", "notification_type": kind, "threshold": threshold,
            "threshold_type": "PERCENTAGE"}
        if alert_emails:
            notification["subscriber_email_addresses"] = list(alert_emails)
        if topic is not None:
            notification["subscriber_sns_topic_arns"] = [topic]
        if alert_emails or topic is not None:
            notifications.append(notification)
    return notifications


def approval_tags(approval: BudgetApprovalRecord | None) -> dict[str, str]:
    if approval is None:
        return {}
    return {APPROVED_EUR_TAG: f"{approval.amount_eur:g}", APPROVAL_REASON_TAG: approval.reason,
            APPROVER_TAG: approval.approver}


def budget_name_problem(name: str) -> str | None:
    """Why AWS Budgets would reject `name`, or None."""
    if not 1 <= len(name) <= BUDGET_NAME_MAX or any(c in name for c in BUDGET_NAME_FORBIDDEN):
        return f"budget name {name!r} must be 1-{BUDGET_NAME_MAX} characters without ':' or a backslash"
    return None


def budget_filters(environment: str, region: str) -> list[budgets.BudgetCostFilterArgsDict]:
    # `user:<key>$<value>` is how AWS documents tag filters for user-defined tags (create-budget CLI).
    return [{"name": "TagKeyValue", "values": [f"user:environment${environment}"]},
            {"name": "Region", "values": [region]}]


class StackBudget(pulumi.ComponentResource):
    budget_name: pulumi.Output[str]
    """The AWS Budgets name of this stack's monthly cost budget."""

    def __init__(self, name: str, args: StackBudgetArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("microservices:platform:StackBudget", name, None, opts)
        problem = budget_name_problem(args.name)
        if problem:
            raise ValueError(problem)
        budget = budgets.Budget(
            f"{name}-monthly", name=args.name, budget_type="COST", time_unit="MONTHLY",
            limit_amount=f"{args.monthly_usd:.2f}", limit_unit="USD",
            cost_filters=budget_filters(args.environment, args.region),
            notifications=budget_notifications(args.alert_emails, args.alert_topic_arn, args.breach_topic_arn),
            tags=approval_tags(args.approval) or None, opts=pulumi.ResourceOptions(parent=self))
        self.budget_name = budget.name
        self.register_outputs({"budgetName": self.budget_name})
