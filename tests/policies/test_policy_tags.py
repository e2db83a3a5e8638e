"""budget-tags: cost tags merged with the provider's default tags."""

from __future__ import annotations

import pytest
from policy_records import COST_TAGS, UNKNOWN, StackRecords, of_policy


def tag_findings(pack, stack, record):
    return of_policy(pack.analyze(record, stack.records), "budget-tags")


@pytest.mark.parametrize("tags_as_json", [True, False])
def test_provider_default_tags_satisfy_the_requirement_json_encoded_or_not(pack, tags_as_json):
    stack = StackRecords(tags_as_json=tags_as_json)
    bucket = stack.add("aws:s3/bucket:Bucket", "logs", {"tags": {"Name": "logs"}})
    assert tag_findings(pack, stack, bucket) == []


def test_missing_cost_tags_without_provider_defaults_are_mandatory(pack):
    stack = StackRecords(default_tags={})
    bucket = stack.add("aws:s3/bucket:Bucket", "logs", {"tags": {"owner": "platform-team"}})
    found = tag_findings(pack, stack, bucket)
    assert len(found) == 1 and found[0].enforcement_level == "mandatory"
    assert "missing tag(s) environment, cost-center" in found[0].detail


def test_resource_tags_override_provider_defaults_and_empty_values_fail(pack):
    stack = StackRecords()
    bucket = stack.add("aws:s3/bucket:Bucket", "logs", {"tags": {"owner": " "}})
    found = tag_findings(pack, stack, bucket)
    assert len(found) == 1 and "empty tag(s) owner" in found[0].detail


def test_environment_outside_the_allowed_set_fails(pack):
    stack = StackRecords(default_tags=dict(COST_TAGS, environment="dev"))
    bucket = stack.add("aws:s3/bucket:Bucket", "logs", {})
    found = tag_findings(pack, stack, bucket)
    assert len(found) == 1 and "environment='dev'" in found[0].detail


def test_allowed_environments_are_configurable(pack):
    stack = StackRecords(default_tags=dict(COST_TAGS, environment="dev"))
    bucket = stack.add("aws:s3/bucket:Bucket", "logs", {})
    pack.configure({"budget-tags": {"allowedEnvironments": ["dev", "staging", "prod"]}})
    assert tag_findings(pack, stack, bucket) == []


def test_resources_inside_a_service_component_need_the_service_tag(pack):
    stack = StackRecords()
    service = stack.component("microservices:platform:MeshService", "orders")
    untagged = stack.add("aws:ecs/service:Service", "orders", {"tags": {"Name": "orders"}}, parent=service)
    tagged = stack.add("aws:cloudwatch/logGroup:LogGroup", "orders", {"tags": {"service": "orders"}}, parent=service)
    found = tag_findings(pack, stack, untagged)
    assert len(found) == 1 and "missing tag(s) service" in found[0].detail
    assert tag_findings(pack, stack, tagged) == []


def test_untaggable_types_and_components_are_not_judged(pack):
    stack = StackRecords(default_tags={})
    attachment = stack.add("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "a", {"role": "r", "policyArn": "x"})
    component = stack.component("microservices:platform:MeshService", "orders")
    assert tag_findings(pack, stack, attachment) == [] and tag_findings(pack, stack, component) == []


def test_unknown_tag_values_count_as_present_and_unknown_tag_maps_are_not_judged(pack):
    stack = StackRecords(default_tags={})
    known_keys = stack.add("aws:s3/bucket:Bucket", "a", {"tags": {k: UNKNOWN for k in COST_TAGS}})
    assert tag_findings(pack, stack, known_keys) == []
    unknown_map = stack.add("aws:s3/bucket:Bucket", "b", {"tags": UNKNOWN})
    result = pack.analyze_result(unknown_map, stack.records)
    assert of_policy(result.diagnostics, "budget-tags") == []
    assert [n.policy_name for n in result.not_applicable] == ["budget-tags"]


def test_provider_record_missing_falls_back_to_no_default_tags(pack):
    stack = StackRecords()
    bucket = stack.add("aws:s3/bucket:Bucket", "logs", {})
    # analyze without the provider record: only providerRegion is known, so the defaults are gone
    found = of_policy(pack.analyze(bucket), "budget-tags")
    assert len(found) == 1 and "missing tag(s) environment, cost-center, owner" in found[0].detail
