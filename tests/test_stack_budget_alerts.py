"""Budget alerts, approval tags and the cost settings the program reads (pure, no Pulumi run)."""

from __future__ import annotations

import botocore.session
import pytest
from botocore.validate import ParamValidator
from pydantic import ValidationError

from components.cost.stack_budget import ALERT_THRESHOLDS, BudgetApprovalRecord, approval_tags, budget_notifications
from foundation.settings.stack_config import Budget, Network
from policies.budget_guard import _approval_from
from policies.cost.tags import APPROVAL_REASON_TAG, APPROVED_EUR_TAG, APPROVER_TAG

BUDGETS = botocore.session.get_session().get_service_model("budgets")
CREATE_NOTIFICATION = BUDGETS.operation_model("CreateNotification")


def _api_request(notification: dict) -> dict:
    """The CreateNotification request AWS receives for one Pulumi notification entry."""
    subscribers = [{"SubscriptionType": "EMAIL", "Address": a} for a in notification.get("subscriber_email_addresses", [])]
    subscribers += [{"SubscriptionType": "SNS", "Address": a} for a in notification.get("subscriber_sns_topic_arns", [])]
    return {"AccountId": "123456789012", "BudgetName": "b",
            "Notification": {"NotificationType": notification["notification_type"],
                             "ComparisonOperator": notification["comparison_operator"],
                             "Threshold": notification["threshold"], "ThresholdType": notification["threshold_type"]},
            "Subscribers": subscribers}


def _enum(shape_name: str) -> list[str]:
    return BUDGETS.shape_for(shape_name).enum


def test_alerts_are_forecast_80_actual_95_and_actual_100_to_emails_and_the_topic():
    topic = "arn:aws:sns:eu-central-1:123456789012:alerts"
    notifications = budget_notifications(["oncall@example.com"], topic)
    assert [(n["notification_type"], n["threshold"]) for n in notifications] == list(ALERT_THRESHOLDS) == [
        ("FORECASTED", 80.0), ("ACTUAL", 95.0), ("ACTUAL", 100.0)]
    for notification in notifications:
        assert notification["subscriber_email_addresses"] == ["oncall@example.com"]
        assert notification["subscriber_sns_topic_arns"] == [topic]
        request = _api_request(notification)
        report = ParamValidator().validate(request, CREATE_NOTIFICATION.input_shape)
        assert not report.has_errors(), report.generate_report()
        assert request["Notification"]["NotificationType"] in _enum("NotificationType")
        assert request["Notification"]["ComparisonOperator"] in _enum("ComparisonOperator")
        assert request["Notification"]["ThresholdType"] in _enum("ThresholdType")


def test_no_subscriber_means_no_notification():
    assert budget_notifications([], None) == []
    assert "subscriber_email_addresses" not in budget_notifications([], "arn:aws:sns:eu-west-1:1:t")[0]


def test_approval_tags_are_what_the_budget_policy_reads():
    tags = approval_tags(BudgetApprovalRecord(900, "five services at high availability", "cto@example.com"))
    approval, problem = _approval_from(tags[APPROVED_EUR_TAG], tags[APPROVAL_REASON_TAG], tags[APPROVER_TAG], "tags")
    assert problem is None and approval.amount_eur == 900 and approval.approver == "cto@example.com"
    assert approval_tags(None) == {}


def test_budget_approval_must_exceed_the_budget_and_use_tag_characters():
    base = {"amountEur": 900, "reason": "five services at high availability", "approver": "cto@example.com"}
    assert Budget.model_validate({"monthlyEur": 100, "approval": base}).approval.amount_eur == 900
    with pytest.raises(ValidationError, match="must exceed monthlyEur"):
        Budget.model_validate({"monthlyEur": 1000, "approval": base})
    with pytest.raises(ValidationError):
        Budget.model_validate({"monthlyEur": 100, "approval": {**base, "reason": "too short"}})
    with pytest.raises(ValidationError):
        Budget.model_validate({"monthlyEur": 100, "approval": {**base, "reason": "commas, are not tag characters"}})


def test_every_stack_has_interface_endpoints_in_at_least_one_az_whatever_its_nat_strategy():
    assert Network.model_validate({"vpcCidr": "10.0.0.0/16", "azCount": 2, "natStrategy": "single",
                                   "endpointAzCount": 1}).endpoint_az_count == 1
    for nat in ("none", "single", "one-per-az"):
        with pytest.raises(ValidationError, match="greater than or equal to 1"):
            Network.model_validate({"vpcCidr": "10.0.0.0/16", "azCount": 2, "natStrategy": nat, "endpointAzCount": 0})


def test_a_budget_watches_the_approved_amount_where_there_is_one():
    approval = {"amountEur": 900, "reason": "five services at high availability", "approver": "cto@example.com"}
    assert Budget.model_validate({"monthlyEur": 100, "approval": approval}).watched_eur == 900


def test_a_budget_without_an_approval_watches_its_monthly_amount():
    assert Budget.model_validate({"monthlyEur": 100}).watched_eur == 100


@pytest.mark.parametrize("stack", ["staging", "staging-euw1", "prod", "prod-euw1"])
def test_every_stack_budget_limit_in_usd_is_the_watched_spend_at_the_price_files_rate(stack):
    from foundation.settings import eur_to_usd, load_stack

    settings = load_stack(stack)
    budget = settings.config.budget
    expected = (budget.approval.amount_eur if budget.approval else budget.monthly_eur) * eur_to_usd()
    assert settings.monthly_budget_usd == pytest.approx(expected, abs=0.005)
