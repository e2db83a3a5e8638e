"""The exception (acknowledgement) mechanism and enforcement-level configuration."""

from __future__ import annotations

import json

import pytest
from policy_records import StackRecords, of_policy

from devkit.harness import PolicyConfigError

REASON = "ECR pull-through cache needs s3:* until AWS-123 ships"


def wildcard_policy(stack, name="task-policy"):
    document = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b"}]})
    return stack.add("aws:iam/policy:Policy", name, {"policy": document})


def test_acknowledged_finding_is_reported_as_advisory_with_its_reason(pack):
    stack = StackRecords()
    record = wildcard_policy(stack)
    pack.configure(exceptions=[{"policy": "no-wildcard-iam", "resource": "task-*", "reason": REASON}])
    diagnostics = pack.analyze(record, stack.records)
    assert of_policy(diagnostics, "no-wildcard-iam") == []
    acknowledged = of_policy(diagnostics, "acknowledged-findings")
    assert len(acknowledged) == 1 and acknowledged[0].enforcement_level == "advisory"
    assert acknowledged[0].acknowledged and acknowledged[0].detail.startswith(f"acknowledged: {REASON}\n")
    assert "[no-wildcard-iam]" in acknowledged[0].detail and "s3:*" in acknowledged[0].detail


def test_exception_matches_by_urn_glob_and_only_matching_resources(pack):
    stack = StackRecords()
    covered, other = wildcard_policy(stack, "a"), wildcard_policy(stack, "b")
    pack.configure({"no-wildcard-iam": {"exceptions": [{"resource": "urn:pulumi:*::a", "reason": REASON}]}})
    assert of_policy(pack.analyze(covered, stack.records), "no-wildcard-iam") == []
    assert len(of_policy(pack.analyze(other, stack.records), "no-wildcard-iam")) == 1


def test_exception_for_another_policy_does_not_acknowledge(pack):
    stack = StackRecords()
    record = wildcard_policy(stack)
    pack.configure(exceptions=[{"policy": "budget-tags", "resource": "*", "reason": REASON}])
    assert len(of_policy(pack.analyze(record, stack.records), "no-wildcard-iam")) == 1


def test_malformed_exception_is_reported_and_not_applied(pack):
    stack = StackRecords()
    record = wildcard_policy(stack)
    pack.configure(exceptions=[{"policy": "no-wildcard-iam", "resource": "task-*", "reason": "legacy"}])
    found = of_policy(pack.analyze(record, stack.records), "no-wildcard-iam")
    assert len(found) == 2 and {d.enforcement_level for d in found} == {"mandatory"}
    malformed = [d for d in found if "malformed policy exception" in d.detail]
    assert len(malformed) == 1 and "at least 20 characters" in malformed[0].detail
    assert of_policy(pack.analyze(record, stack.records), "acknowledged-findings") == []


def test_malformed_exception_of_a_stack_policy_is_reported_once(pack):
    stack = StackRecords()
    stack.add("aws:ec2/vpc:Vpc", "main", {}, outputs={"id": "vpc-1"})
    pack.configure({"required-vpc-endpoints": {"exceptions": [{"resource": "main"}]}})
    found = of_policy(pack.analyze_stack(stack.records), "required-vpc-endpoints")
    malformed = [d for d in found if "malformed" in d.detail]
    assert len(malformed) == 1 and "reason" in malformed[0].detail and malformed[0].urn == ""
    assert len(found) == 7  # six missing endpoints are still reported


def test_stack_policy_findings_can_be_acknowledged(pack):
    stack = StackRecords()
    vpc = stack.add("aws:ec2/vpc:Vpc", "sandbox", {}, outputs={"id": "vpc-1"})
    pack.configure(exceptions=[{"policy": "required-vpc-endpoints", "resource": "sandbox",
                                "reason": "sandbox VPC has a NAT gateway and no workloads"}])
    diagnostics = pack.analyze_stack(stack.records)
    assert of_policy(diagnostics, "required-vpc-endpoints") == []
    acknowledged = of_policy(diagnostics, "acknowledged-stack-findings")
    assert len(acknowledged) == 6 and {d.urn for d in acknowledged} == {vpc["urn"]}
    assert all(d.enforcement_level == "advisory" for d in acknowledged)


def test_exception_naming_an_unknown_policy_is_rejected_by_the_harness(pack):
    with pytest.raises(PolicyConfigError, match="unknown policy 'no-such-policy'"):
        pack.configure(exceptions=[{"policy": "no-such-policy", "resource": "*", "reason": REASON}])


def test_enforcement_level_can_be_lowered_per_policy_and_for_all(pack):
    stack = StackRecords()
    record = wildcard_policy(stack)
    pack.configure({"no-wildcard-iam": "advisory"})
    assert [d.enforcement_level for d in of_policy(pack.analyze(record, stack.records), "no-wildcard-iam")] == ["advisory"]
    pack.configure({"all": "disabled"})
    assert pack.analyze(record, stack.records) == []
