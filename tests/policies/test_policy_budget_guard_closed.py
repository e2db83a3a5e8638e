"""stack-budget fails closed (issue 19, budget guard class): unpriced types, budget periods, approvals, floors."""

from __future__ import annotations

import math

import pytest

from policies.budget_guard import (
    APPROVAL_REASON_TAG,
    APPROVED_EUR_TAG,
    APPROVER_TAG,
    STACK_BUDGET,
    STACK_BUDGET_APPROVED_OVERRUN,
    check_approved_overrun,
    check_stack_budget,
)
from policies.framework import ResourceView
from tests.policies.test_policy_budget_guard import BUDGET_URN, ESTIMATE_EUR, RATE, _views

PREFIX = "urn:pulumi:ref::microservices-foundation::"
REGION = {"region": "eu-central-1"}


def _config(spec=STACK_BUDGET, **given):
    # The seeds' 200 EUR ceiling is tested on its own below; elsewhere budgets may exceed it.
    return spec.effective_config({"approvalCeilingEur": 1_000_000, **given})


def _with(views: list[ResourceView], type_: str, name: str, props: dict) -> list[ResourceView]:
    return [*views, ResourceView(type=type_, name=name, urn=f"{PREFIX}{type_}::{name}", props=props,
                                 provider_props=REGION)]


def _budget(views: list[ResourceView]) -> ResourceView:
    return next(v for v in views if v.urn == BUDGET_URN)


def _unpriced(findings) -> list[str]:
    return [f.message for f in findings if "cannot be priced" in f.message]


# --- every type is priced or declared free ------------------------------------------------------

UNPRICEABLE = [
    ("aws:ec2/instance:Instance", {"instanceType": "x2iedn.32xlarge"}),
    ("aws:rds/instance:Instance", {"engine": "oracle-ee", "instanceClass": "db.r6i.32xlarge"}),
    ("aws:sagemaker/endpoint:Endpoint", {}),
]


@pytest.mark.parametrize(("type_", "props"), UNPRICEABLE)
def test_a_resource_nothing_can_price_is_a_mandatory_verdict_naming_its_type(type_, props):
    findings = check_stack_budget(_with(_views(ESTIMATE_EUR + 100), type_, "x", props), _config())
    assert len(_unpriced(findings)) == 1 and type_ in _unpriced(findings)[0]


def test_an_acknowledged_type_with_a_reason_is_accepted():
    views = _with(_views(ESTIMATE_EUR + 100), "aws:sagemaker/endpoint:Endpoint", "x", {})
    acknowledged = {"aws:sagemaker/endpoint:Endpoint": "billed to the data science cost centre"}
    assert check_stack_budget(views, _config(acknowledgedTypes=acknowledged)) == []


def test_an_acknowledgement_without_a_reason_does_not_count():
    views = _with(_views(ESTIMATE_EUR + 100), "aws:sagemaker/endpoint:Endpoint", "x", {})
    assert _unpriced(check_stack_budget(views, _config(acknowledgedTypes={"aws:sagemaker/endpoint:Endpoint": "ok"})))


def test_a_component_and_a_declared_free_type_cost_nothing_and_pass():
    views = _views(ESTIMATE_EUR + 10)
    views = _with(views, "aws:secretsmanager/secretVersion:SecretVersion", "v", {})
    views.append(ResourceView(type="acme:platform:Thing", name="c", urn=f"{PREFIX}acme:platform:Thing::c", props={}))
    assert check_stack_budget(views, _config()) == []


PRICED = [
    ("aws:ec2/instance:Instance", {"instanceType": "t4g.small"}, "EC2"),
    ("aws:rds/instance:Instance", {"engine": "postgres", "instanceClass": "db.t4g.micro", "multiAz": True,
                                   "allocatedStorage": 20}, "RDS"),
    ("aws:dynamodb/table:Table", {"billingMode": "PROVISIONED", "readCapacity": 400, "writeCapacity": 400}, "DynamoDB"),
]


@pytest.mark.parametrize(("type_", "props", "driver"), PRICED)
def test_ec2_rds_and_provisioned_dynamodb_are_priced_and_can_break_the_budget(type_, props, driver):
    views = _with(_views(ESTIMATE_EUR + 1), type_, "x", props)
    findings = check_stack_budget(views, _config())
    assert len(findings) == 1 and "exceeds the budget" in findings[0].message and not _unpriced(findings)


@pytest.mark.parametrize(("type_", "props", "driver"), PRICED)
def test_ec2_rds_and_provisioned_dynamodb_within_the_budget_pass(type_, props, driver):
    assert check_stack_budget(_with(_views(ESTIMATE_EUR + 400), type_, "x", props), _config()) == []


def _scheduled_task(views: list[ResourceView], schedule: str, count: int) -> list[ResourceView]:
    views = _with(views, "aws:cloudwatch/eventRule:EventRule", "every", {"name": "every",
                                                                         "scheduleExpression": schedule})
    return _with(views, "aws:cloudwatch/eventTarget:EventTarget", "run", {
        "rule": "every", "arn": "arn:aws:ecs:eu-central-1:1:cluster/c",
        "ecsTarget": {"taskDefinitionArn": "arn:aws:ecs:eu-central-1:1:task-definition/ref-api:1", "taskCount": count,
                      "launchType": "FARGATE"}})


def test_an_eventbridge_target_that_runs_ecs_tasks_is_priced_and_can_break_the_budget():
    views = _scheduled_task(_views(ESTIMATE_EUR + 1), "rate(1 minute)", 10)
    findings = check_stack_budget(views, _config())
    assert len(findings) == 1 and "scheduled tasks" in findings[0].message


def test_a_rare_eventbridge_ecs_target_within_the_budget_passes():
    assert check_stack_budget(_scheduled_task(_views(ESTIMATE_EUR + 10), "rate(1 day)", 1), _config()) == []


# --- budgets of any period -----------------------------------------------------------------------

@pytest.mark.parametrize(("unit", "months"), [("DAILY", 12 / 365), ("QUARTERLY", 3), ("ANNUALLY", 12)])
def test_a_budget_of_another_period_is_normalised_to_a_month(unit, months):
    too_low = _views(ESTIMATE_EUR - 5)
    budget = _budget(too_low)
    budget.props.update(timeUnit=unit, limitAmount=f"{(ESTIMATE_EUR - 5) * RATE * months:.4f}")
    findings = check_stack_budget(too_low, _config())
    assert len(findings) == 1 and f"exceeds the budget €{ESTIMATE_EUR - 5:.2f}" in findings[0].message
    enough = _views(ESTIMATE_EUR + 5)
    _budget(enough).props.update(timeUnit=unit, limitAmount=f"{(ESTIMATE_EUR + 5) * RATE * months:.4f}")
    assert check_stack_budget(enough, _config()) == []


# --- approvals are finite, positive, bounded -----------------------------------------------------

@pytest.mark.parametrize("amount", ["Infinity", "inf", "NaN", "-500", "0", "1e400", "2000000"])
def test_an_approval_that_is_not_a_finite_positive_bounded_amount_is_refused(amount):
    tags = {APPROVED_EUR_TAG: amount, APPROVAL_REASON_TAG: "five services at high availability in prod",
            APPROVER_TAG: "cfo@example.com"}
    findings = check_stack_budget(_views(50, tags=tags), _config())
    assert len(findings) == 1 and "approved amount" in findings[0].message
    assert check_approved_overrun(_views(50, tags=tags), _config(STACK_BUDGET_APPROVED_OVERRUN)) == []


def test_a_finite_approval_above_the_estimate_turns_the_overrun_advisory():
    tags = {APPROVED_EUR_TAG: f"{math.ceil(ESTIMATE_EUR + 1)}", APPROVAL_REASON_TAG: "launch month traffic test",
            APPROVER_TAG: "cfo@example.com"}
    assert check_stack_budget(_views(50, tags=tags), _config()) == []


# --- usage floors --------------------------------------------------------------------------------

def test_usage_assumptions_below_the_environment_floor_are_a_mandatory_finding(tmp_path):
    (tmp_path / "Pulumi.ref.yaml").write_text("config:\n  microservices-foundation:environment: prod\n"
                                              "  microservices-foundation:costAssumptions:\n    natGbPerMonth: 0\n")
    findings = check_stack_budget(_views(ESTIMATE_EUR + 100), _config(stackConfigDir=str(tmp_path)))
    assert len(findings) == 1 and "costAssumptions.natGbPerMonth = 0 is below the prod floor 50" in findings[0].message


def test_usage_assumptions_at_the_floor_pass(tmp_path):
    (tmp_path / "Pulumi.ref.yaml").write_text("config:\n  microservices-foundation:environment: prod\n"
                                              "  microservices-foundation:costAssumptions:\n    natGbPerMonth: 50\n")
    assert check_stack_budget(_views(ESTIMATE_EUR + 100), _config(stackConfigDir=str(tmp_path))) == []


# --- budgets above the seeds' ceiling ------------------------------------------------------------

def _approved(amount_eur: float) -> dict:
    return {APPROVED_EUR_TAG: f"{amount_eur:.0f}", APPROVAL_REASON_TAG: "five services at high availability in prod",
            APPROVER_TAG: "cfo@example.com"}


def test_a_budget_above_the_seeds_ceiling_without_an_approval_is_mandatory():
    findings = check_stack_budget(_views(250), _config(approvalCeilingEur=200))
    assert len(findings) == 1 and "above the seeds' €200 ceiling" in findings[0].message
    assert "Record an approval" in findings[0].message


def test_an_approved_budget_above_the_ceiling_is_advisory_with_the_drivers_that_exceed_it():
    views = _views(250, tags=_approved(250))
    assert check_stack_budget(views, _config(approvalCeilingEur=100)) == []
    advisory = check_approved_overrun(views, _config(STACK_BUDGET_APPROVED_OVERRUN, approvalCeilingEur=100))
    assert len(advisory) == 1 and "What makes €100 impossible: Fargate tasks (api)" in advisory[0].message


def test_a_budget_within_the_ceiling_needs_no_approval():
    views = _views(ESTIMATE_EUR + 10)
    assert check_stack_budget(views, _config(approvalCeilingEur=ESTIMATE_EUR + 20)) == []
    assert check_approved_overrun(views, _config(STACK_BUDGET_APPROVED_OVERRUN,
                                                 approvalCeilingEur=ESTIMATE_EUR + 20)) == []
