"""The harness speaks the engine's protocol; the pack describes itself; verdicts render like the CLI."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from policy_records import UNKNOWN, StackRecords, of_policy

from devkit.harness import (
    Diagnostic,
    PolicyConfigError,
    PolicyPackAnalyzer,
    PolicyPackError,
    analyze_request,
    stack_properties,
    wire_value,
)
from devkit.verdicts import passed, render_markdown, render_text, summary_line
from policies.pack import PACK_NAME, SPECS

REFERENCE = {"4dabf18193072939515e22adb298388d": "5cf8f73096256a8f31e491e813e4eb8e",
             "urn": "urn:pulumi:test::p::aws:kms/key:Key::k", "id": "key-123"}
COMPONENT_REFERENCE = {"4dabf18193072939515e22adb298388d": "5cf8f73096256a8f31e491e813e4eb8e",
                       "urn": "urn:pulumi:test::p::awsx:ec2:Vpc::net"}


def test_pack_describes_every_policy_with_level_severity_and_exceptions_knob(running_pack):
    info = running_pack.info
    assert info.name == PACK_NAME
    names = [p.name for p in info.policies]
    assert names == [s.name for s in SPECS] + ["acknowledged-findings", "acknowledged-stack-findings"]
    for spec in SPECS:
        policy = info.policy(spec.name)
        assert policy.enforcement_level == spec.enforcement_level.value
        assert policy.severity == spec.severity.value and policy.remediation
        assert "exceptions" in policy.config_schema["properties"]
        assert policy.policy_type == ("stack" if spec.stack else "resource")
    assert running_pack.get_plugin_info()


def test_every_policy_documents_its_unknown_handling_in_the_module_docstring():
    import importlib

    for spec in SPECS:
        module = importlib.import_module(spec.check.__module__)
        assert "Unknown values" in (module.__doc__ or ""), spec.name
        assert spec.unknowns


def test_resource_references_are_downgraded_and_output_values_unwrapped():
    output_unknown = {"4dabf18193072939515e22adb298388d": "d0e6a833031e9bbcd3f4e8bde6ca49a4"}
    value = wire_value({"key": REFERENCE, "vpc": COMPONENT_REFERENCE, "later": output_unknown, "n": [1, None]})
    assert value == {"key": "key-123", "vpc": COMPONENT_REFERENCE["urn"], "later": UNKNOWN, "n": [1, None]}


def test_a_resource_reference_in_properties_reaches_the_pack_without_crashing_it(pack):
    stack = StackRecords()
    group = stack.add("aws:cloudwatch/logGroup:LogGroup", "logs", {"retentionInDays": 30, "kmsKeyId": REFERENCE})
    assert of_policy(pack.analyze(group, stack.records), "log-group-kms") == []


def test_stack_properties_overlay_known_outputs_without_hiding_known_inputs():
    record = {"inputs": {"name": "x", "arn": None}, "outputs": {"name": UNKNOWN, "id": "vpc-1", "arn": UNKNOWN}}
    assert stack_properties(record) == {"name": "x", "id": "vpc-1", "arn": UNKNOWN}


def test_analyze_request_carries_provider_and_parent_like_the_engine():
    stack = StackRecords()
    parent = stack.component("microservices:platform:MeshService", "orders")
    record = stack.add("aws:s3/bucket:Bucket", "b", {}, parent=parent)
    request = analyze_request(record, {stack.provider["urn"]: stack.provider})
    assert request.options.parent == parent["urn"]
    assert request.provider.urn == stack.provider["urn"] and request.provider.properties["region"] == "eu-central-1"
    assert json.loads(request.provider.properties["defaultTags"])["tags"]["owner"] == "platform-team"


def test_preview_runs_resource_and_stack_policies(pack):
    stack = StackRecords()
    stack.add("aws:ec2/vpc:Vpc", "main", {}, outputs={"id": "vpc-1"})
    stack.add("aws:kms/key:Key", "k", {})
    diagnostics = pack.preview(stack.records)
    assert {d.policy_name for d in diagnostics} == {"required-vpc-endpoints", "kms-key-rotation"}


def test_the_harness_kills_the_pack_on_exit():
    with PolicyPackAnalyzer() as pack:
        process = pack._process
        assert process.poll() is None
    assert process.poll() is not None
    with pytest.raises(PolicyPackError, match="not running"):
        pack.analyze({"type": "aws:s3/bucket:Bucket", "urn": "urn:pulumi:a::b::aws:s3/bucket:Bucket::c"})


def test_a_pack_that_fails_to_start_is_reported_with_its_stderr(tmp_path):
    (tmp_path / "__main__.py").write_text("raise SystemExit('broken pack')\n")
    with pytest.raises(PolicyPackError, match="broken pack"), PolicyPackAnalyzer(tmp_path, startup_timeout=20):
        pass


def diagnostic(level, policy="no-wildcard-iam", urn="urn:pulumi:s::p::aws:iam/policy:Policy::task", detail="bad"):
    return Diagnostic(policy, PACK_NAME, "0.0.1", level, urn, f"desc\n{detail}", "desc", "high")


def test_text_rendering_lists_level_policy_resource_and_counts():
    text = render_text([diagnostic("advisory", detail="acknowledged: ok"), diagnostic("mandatory", detail="a | b")])
    assert "- [mandatory]  no-wildcard-iam  (aws:iam/policy:Policy: task)" in text
    assert text.index("[mandatory]") < text.index("[advisory]")
    assert text.rstrip().endswith("Policy verdicts: 1 mandatory, 1 advisory (FAILED).")


def test_markdown_rendering_escapes_cells_and_marks_blocking_verdicts():
    markdown = render_markdown([diagnostic("mandatory", detail="a | b\nc"), diagnostic("advisory", urn="")])
    assert "❌ **Blocked**" in markdown and "a \\| b<br>c" in markdown and "| stack |" in markdown
    assert render_markdown([]).strip().endswith("No policy violations.")


def test_passed_only_without_mandatory_verdicts():
    assert passed([diagnostic("advisory")]) and not passed([diagnostic("mandatory")])
    assert summary_line([]) == "No policy violations."


def test_per_resource_verdicts_carry_the_analyzed_urn_and_the_declared_pack_version(pack):
    stack = StackRecords()
    key = stack.add("aws:kms/key:Key", "k", {})
    [found] = of_policy(pack.analyze(key, stack.records), "kms-key-rotation")
    assert found.urn == key["urn"] and found.resource_name == "k" and found.resource_type == "aws:kms/key:Key"
    assert found.policy_pack_version == pack.info.version == "0.1.0"


def test_an_unknown_value_crosses_the_wire_as_unknown_and_defers_the_check(pack):
    stack = StackRecords()
    policy = stack.add("aws:iam/policy:Policy", "later", {"policy": UNKNOWN})
    result = pack.analyze_result(policy, stack.records)
    assert of_policy(result.diagnostics, "no-wildcard-iam") == []
    assert [(n.policy_name, n.reason) for n in result.not_applicable] == [
        ("no-wildcard-iam", "aws:iam/policy:Policy 'later': policy (identity policy) is unknown during preview; deferred to `pulumi up`")]


def wildcard_policy(stack):
    document = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b"}]})
    return stack.add("aws:iam/policy:Policy", "task-policy", {"policy": document})


def test_an_acknowledged_finding_travels_at_advisory_level_and_a_malformed_one_at_the_policys(pack):
    stack = StackRecords()
    record = wildcard_policy(stack)
    pack.configure(exceptions=[{"policy": "no-wildcard-iam", "resource": "task-*",
                                "reason": "ECR pull-through cache needs s3:* until AWS-123 ships"}])
    [acknowledged] = pack.analyze(record, stack.records)
    assert acknowledged.policy_name == "acknowledged-findings" and acknowledged.enforcement_level == "advisory"
    assert acknowledged.acknowledged
    pack.configure(exceptions=[{"policy": "no-wildcard-iam", "resource": "task-*", "reason": "legacy"}])
    assert {(d.policy_name, d.enforcement_level) for d in pack.analyze(record, stack.records)} == {
        ("no-wildcard-iam", "mandatory")}


def test_exception_naming_an_unknown_policy_is_rejected_by_the_harness(pack):
    with pytest.raises(PolicyConfigError, match="unknown policy 'no-such-policy'"):
        pack.configure(exceptions=[{"policy": "no-such-policy", "resource": "*",
                                    "reason": "ECR pull-through cache needs s3:* until AWS-123 ships"}])


def test_enforcement_level_can_be_lowered_per_policy_and_for_all(pack):
    stack = StackRecords()
    record = wildcard_policy(stack)
    pack.configure({"no-wildcard-iam": "advisory"})
    assert [d.enforcement_level for d in of_policy(pack.analyze(record, stack.records), "no-wildcard-iam")] == ["advisory"]
    pack.configure({"all": "disabled"})
    assert pack.analyze(record, stack.records) == []


def test_a_resource_analyzed_without_its_provider_record_gets_only_the_provider_region(pack):
    stack = StackRecords()
    bucket = stack.add("aws:s3/bucket:Bucket", "logs", {})
    [found] = of_policy(pack.analyze(bucket), "budget-tags")
    assert "missing tag(s) environment, cost-center, owner" in found.detail
    assert of_policy(pack.analyze(bucket, stack.records), "budget-tags") == []


def test_a_violation_and_a_deferral_of_one_policy_both_reach_the_engine(pack):
    stack = StackRecords()
    role = stack.add("aws:iam/role:Role", "task", {
        "permissionsBoundary": "arn:aws:iam::1:policy/boundary", "assumeRolePolicy": UNKNOWN,
        "inlinePolicies": [{"name": "bad", "policy": json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b"}]})}]})
    result = pack.analyze_result(role, stack.records)
    assert [d.policy_name for d in result.diagnostics] == ["no-wildcard-iam"]
    assert [(n.policy_name, n.reason) for n in result.not_applicable] == [
        ("no-wildcard-iam", "aws:iam/role:Role 'task': assumeRolePolicy (trust policy) is unknown during preview; "
                            "deferred to `pulumi up`")]


def test_a_pack_with_a_broken_price_file_starts_and_its_budget_policy_names_the_file_and_key(tmp_path):
    # The pack reads its price book when it starts (policies/__main__.py); a bad file must not stop it.
    root = Path(__file__).resolve().parents[2]
    shutil.copytree(root / "policies", tmp_path / "policies")
    shutil.copytree(root / "platform", tmp_path / "platform")
    prices = tmp_path / "platform" / "prices.yaml"
    prices.write_text(re.sub(r"usd: [0-9.]+", "usd: oops", prices.read_text(), count=1))
    stack = StackRecords()
    stack.add("aws:budgets/budget:Budget", "monthly", {"budgetType": "COST", "limitAmount": "100",
                                                       "limitUnit": "EUR", "timeUnit": "MONTHLY"})
    with PolicyPackAnalyzer(tmp_path / "policies", stack="test", project="p") as pack:
        messages = [d.message for d in pack.analyze_stack(stack.records) if d.policy_name == "stack-budget"]
    assert messages and "prices.yaml: " in messages[0] and ".usd: Input should be a valid number" in messages[0]
