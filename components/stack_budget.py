"""A monthly AWS Budget per stack, scoped by the stack's environment tag and region.

Budgets count cost in USD (the Budgets API examples and the account's billing currency); the stack
states its budget in EUR and the conversion rate lives in platform/prices.yaml.
The tag filter needs `environment` activated as a cost allocation tag (account-wide, by the
management account); until then the budget sees no cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import pulumi
import pulumi_aws.budgets as budgets

# Budget.BudgetName: 1-100 characters, neither ':' nor a backslash among them (API pattern `[^:\\]+`).
# https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_Budget.html
BUDGET_NAME_MAX = 100
BUDGET_NAME_FORBIDDEN = (":", "\\")


@dataclass(frozen=True)
class StackBudgetArgs:
    name: str
    environment: str
    region: str
    monthly_usd: float
    alert_emails: Sequence[str] = field(default_factory=tuple)
    # The stack's alert topic (its key and topic policy admit budgets.amazonaws.com); None: e-mail only.
    alert_topic_arn: Optional[pulumi.Input[str]] = None


def budget_name_problem(name: str) -> Optional[str]:
    """Why AWS Budgets would reject `name`, or None."""
    if not 1 <= len(name) <= BUDGET_NAME_MAX or any(c in name for c in BUDGET_NAME_FORBIDDEN):
        return f"budget name {name!r} must be 1-{BUDGET_NAME_MAX} characters without ':' or a backslash"
    return None


def budget_filters(environment: str, region: str) -> list[dict]:
    # `user:<key>$<value>` is how AWS documents tag filters for user-defined tags (create-budget CLI).
    return [{"name": "TagKeyValue", "values": [f"user:environment${environment}"]},
            {"name": "Region", "values": [region]}]


class StackBudget(pulumi.ComponentResource):
    budget_name: pulumi.Output[str]
    """The AWS Budgets name of this stack's monthly cost budget."""

    def __init__(self, name: str, args: StackBudgetArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("microservices:platform:StackBudget", name, None, opts)
        problem = budget_name_problem(args.name)
        if problem:
            raise ValueError(problem)
        notifications = []
        subscribers: dict = {}
        if args.alert_emails:
            subscribers["subscriber_email_addresses"] = list(args.alert_emails)
        if args.alert_topic_arn is not None:
            # Budgets: at most one SNS topic per notification.
            subscribers["subscriber_sns_topic_arns"] = [args.alert_topic_arn]
        if subscribers:
            notifications = [
                {"comparison_operator": "GREATER_THAN", "notification_type": "ACTUAL", "threshold": 80.0,
                 "threshold_type": "PERCENTAGE", **subscribers},
                {"comparison_operator": "GREATER_THAN", "notification_type": "FORECASTED", "threshold": 100.0,
                 "threshold_type": "PERCENTAGE", **subscribers},
            ]
        budget = budgets.Budget(
            f"{name}-monthly", name=args.name, budget_type="COST", time_unit="MONTHLY",
            limit_amount=f"{args.monthly_usd:.2f}", limit_unit="USD",
            cost_filters=budget_filters(args.environment, args.region), notifications=notifications,
            opts=pulumi.ResourceOptions(parent=self))
        self.budget_name = budget.name
        self.register_outputs({"budgetName": self.budget_name})
