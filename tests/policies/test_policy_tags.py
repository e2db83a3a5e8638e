"""budget-tags: cost tags merged with the provider's default tags."""

from __future__ import annotations

import pytest
from views import COST_TAGS, UNKNOWN, Stack, findings, messages, not_judged, provider, view

from policies.budget_tags import BUDGET_TAGS

BUCKET = "aws:s3/bucket:Bucket"


@pytest.mark.parametrize("tags_as_json", [True, False])
def test_provider_default_tags_satisfy_the_requirement_json_encoded_or_not(tags_as_json):
    bucket = view(BUCKET, {"tags": {"Name": "logs"}}, provider_props=provider(tags_as_json=tags_as_json))
    assert findings(BUDGET_TAGS, bucket) == []


def test_missing_cost_tags_without_provider_defaults_fail():
    bucket = view(BUCKET, {"tags": {"owner": "platform-team"}}, provider_props=provider(default_tags={}))
    [message] = messages(BUDGET_TAGS, bucket)
    assert "missing tag(s) environment, cost-center" in message


def test_a_resource_without_a_provider_has_no_default_tags():
    [message] = messages(BUDGET_TAGS, view(BUCKET, {}, provider_props=None))
    assert "missing tag(s) environment, cost-center, owner" in message


def test_resource_tags_override_provider_defaults_and_empty_values_fail():
    [message] = messages(BUDGET_TAGS, view(BUCKET, {"tags": {"owner": " "}}))
    assert "empty tag(s) owner" in message


def test_environment_outside_the_allowed_set_fails_unless_configured():
    bucket = view(BUCKET, {}, provider_props=provider(default_tags=dict(COST_TAGS, environment="dev")))
    [message] = messages(BUDGET_TAGS, bucket)
    assert "environment='dev'" in message
    assert findings(BUDGET_TAGS, bucket, allowedEnvironments=["dev", "staging", "prod"]) == []


def test_resources_inside_a_service_component_need_the_service_tag():
    stack = Stack()
    service = stack.component("microservices:platform:MeshService", "orders")
    untagged = stack.add("aws:ecs/service:Service", "orders", {"tags": {"Name": "orders"}}, parent=service)
    tagged = stack.add("aws:cloudwatch/logGroup:LogGroup", "orders", {"tags": {"service": "orders"}}, parent=service)
    [message] = messages(BUDGET_TAGS, untagged)
    assert "missing tag(s) service" in message
    assert findings(BUDGET_TAGS, tagged) == []


def test_untaggable_types_and_components_are_not_judged():
    attachment = view("aws:iam/rolePolicyAttachment:RolePolicyAttachment", {"role": "r", "policyArn": "x"},
                      provider_props=provider(default_tags={}))
    component = view("microservices:platform:MeshService", {}, provider_props=None)
    assert findings(BUDGET_TAGS, attachment) == [] and findings(BUDGET_TAGS, component) == []


def test_unknown_tag_values_count_as_present_and_their_values_are_deferred():
    tags = dict.fromkeys(COST_TAGS, UNKNOWN)
    bucket = view(BUCKET, {"tags": tags}, provider_props=provider(default_tags={}))
    assert "environment, cost-center, owner unknown during preview" in not_judged(BUDGET_TAGS, bucket)


def test_an_environment_tag_that_contradicts_the_stack_fails():
    prod_bucket = view(BUCKET, {"tags": {"environment": "staging"}}, stack="prod-euw1")
    [message] = messages(BUDGET_TAGS, prod_bucket)
    assert "the stack deploying it is prod" in message
    assert findings(BUDGET_TAGS, view(BUCKET, {"tags": {"environment": "prod"}}, stack="prod-euw1")) == []


def test_an_unknown_tag_map_is_deferred_to_update():
    bucket = view(BUCKET, {"tags": UNKNOWN}, provider_props=provider(default_tags={}))
    assert "unknown during preview" in not_judged(BUDGET_TAGS, bucket)


def test_unknown_provider_default_tags_with_keys_missing_are_deferred_to_update():
    bucket = view(BUCKET, {}, provider_props={"region": "eu-central-1", "defaultTags": UNKNOWN})
    assert "default tags are unknown" in not_judged(BUDGET_TAGS, bucket)
