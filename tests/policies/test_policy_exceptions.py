"""The framework around every check, in process: messages naming the resource, exceptions and their
acknowledgement, malformed exceptions, deferral to update, and a crashing check."""

from __future__ import annotations

import json

from views import UNKNOWN, Stack, validate, view

from policies.framework import PolicySpec
from policies.iam_documents import NO_WILDCARD_IAM
from policies.vpc_endpoints import REQUIRED_VPC_ENDPOINTS

REASON = "ECR pull-through cache needs s3:* until AWS-123 ships"


def wildcard_policy(name="task-policy"):
    document = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b"}]})
    return view("aws:iam/policy:Policy", {"policy": document}, name=name)


def exceptions(*entries):
    return {"exceptions": list(entries)}


def test_a_finding_names_the_resource_it_is_about():
    [message] = validate(NO_WILDCARD_IAM, wildcard_policy()).messages
    assert message.startswith("aws:iam/policy:Policy 'task-policy': policy (identity policy): ")


def test_acknowledged_finding_is_handed_to_the_reporter_with_its_reason():
    verdicts = validate(NO_WILDCARD_IAM, wildcard_policy(),
                        exceptions({"policy": "no-wildcard-iam", "resource": "task-*", "reason": REASON}))
    assert verdicts.violations == []
    [(acknowledged, _)] = verdicts.acknowledged
    assert acknowledged.startswith(f"acknowledged: {REASON}\n[no-wildcard-iam] aws:iam/policy:Policy 'task-policy'")
    assert "s3:*" in acknowledged


def test_exception_matches_by_urn_glob_and_only_matching_resources():
    config = exceptions({"resource": "urn:pulumi:*::a", "reason": REASON})
    assert validate(NO_WILDCARD_IAM, wildcard_policy("a"), config).violations == []
    assert len(validate(NO_WILDCARD_IAM, wildcard_policy("b"), config).violations) == 1


def test_malformed_exception_is_reported_and_not_applied():
    verdicts = validate(NO_WILDCARD_IAM, wildcard_policy(),
                        exceptions({"policy": "no-wildcard-iam", "resource": "task-*", "reason": "legacy"}))
    assert len(verdicts.violations) == 2 and verdicts.acknowledged == []
    [malformed] = [m for m in verdicts.messages if "malformed policy exception" in m]
    assert "at least 20 characters" in malformed


def test_exception_naming_another_policy_is_malformed_and_does_not_acknowledge():
    verdicts = validate(NO_WILDCARD_IAM, wildcard_policy(),
                        exceptions({"policy": "budget-tags", "resource": "*", "reason": REASON}))
    assert len(verdicts.violations) == 2 and verdicts.acknowledged == []


def test_malformed_exception_of_a_stack_policy_is_reported_once_for_the_stack():
    stack = Stack()
    stack.add("aws:ec2/vpc:Vpc", "main", {"id": "vpc-1"})
    verdicts = validate(REQUIRED_VPC_ENDPOINTS, stack.views, exceptions({"resource": "main"}))
    malformed = [(m, urn) for m, urn in verdicts.violations if "malformed" in m]
    assert len(malformed) == 1 and "reason" in malformed[0][0] and malformed[0][1] is None
    assert len(verdicts.violations) == 7  # six missing endpoints are still reported


def test_stack_policy_findings_can_be_acknowledged():
    stack = Stack()
    vpc = stack.add("aws:ec2/vpc:Vpc", "sandbox", {"id": "vpc-1"})
    verdicts = validate(REQUIRED_VPC_ENDPOINTS, stack.views, exceptions(
        {"policy": "required-vpc-endpoints", "resource": "sandbox", "reason": "sandbox VPC has a NAT gateway and no workloads"}))
    assert verdicts.violations == []
    assert len(verdicts.acknowledged) == 6 and {urn for _, urn in verdicts.acknowledged} == {vpc.urn}


def test_a_deferred_check_is_reported_not_applicable_with_its_reason():
    verdicts = validate(NO_WILDCARD_IAM, view("aws:iam/policy:Policy", {"policy": UNKNOWN}, name="later"))
    assert verdicts.violations == []
    assert verdicts.not_applicable == ["aws:iam/policy:Policy 'later': policy (identity policy) is unknown during preview; deferred to `pulumi up`"]


def test_a_check_that_crashes_is_a_violation_naming_the_policy_not_a_silent_pass():
    def broken(resource, config):
        raise KeyError("Statement")

    spec = PolicySpec(name="broken", description="d", enforcement_level=NO_WILDCARD_IAM.enforcement_level,
                      severity=NO_WILDCARD_IAM.severity, remediation="r", unknowns="u", check=broken)
    [message] = validate(spec, wildcard_policy()).messages
    assert "policy 'broken' could not read" in message and "KeyError" in message and "refused" in message
