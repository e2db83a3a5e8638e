"""`--policy-config FILE`: every bad file is one PolicyConfigError naming the file and the key, checked
against the running pack's policy list and config schemas before the program runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devkit.harness import LEVELS, PolicyConfigError
from devkit.policy_config import check_against_pack, read_policy_config


def config_file(tmp_path: Path, content) -> Path:
    path = tmp_path / "policy-config.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def problem(path: Path, policies) -> str:
    with pytest.raises(PolicyConfigError) as error:
        check_against_pack(read_policy_config(path), policies, path)
    return str(error.value)


@pytest.mark.parametrize("content, expected", [
    ("{", "not valid JSON at line 1, column 2"),
    ("[]", "must be a JSON object"),
    ({"no-wildcard-iam": "mandatry"}, "\"no-wildcard-iam\": enforcement level \"mandatry\" is not allowed; allowed: advisory"),
    ({"no-wildcard-iam": {"enforcementLevel": 3}}, "enforcement level 3 is not allowed"),
    ({"no-wildcard-iam": 1}, "give a level"),
    ({"no-wildcard-iams": "advisory"}, "is not a policy of the pack; did you mean 'no-wildcard-iam'?"),
    ({"no-world-open-ingress": {"albPorts": ["443"]}}, "no-world-open-ingress.albPorts.0 = \"443\" is not allowed"),
    ({"no-world-open-ingress": {"albPort": [443]}}, "albPort is not a knob of no-world-open-ingress; allowed:"),
    ({"all": {"enforcementLevel": "advisory", "albPorts": [1]}}, "\"all\" takes only enforcementLevel"),
])
def test_a_bad_policy_config_names_the_file_and_the_key(tmp_path, running_pack, content, expected):
    path = config_file(tmp_path, content)
    message = problem(path, running_pack.info.policies)
    assert message.startswith(f"{path}: ") and expected in message


def test_a_missing_policy_config_file_is_named(tmp_path):
    with pytest.raises(PolicyConfigError, match=r"missing.json: cannot read the policy config: No such file"):
        read_policy_config(tmp_path / "missing.json")


def test_a_valid_policy_config_is_accepted_by_the_check_and_by_the_pack(tmp_path, pack):
    content = {"all": "advisory", "no-world-open-ingress": {"enforcementLevel": "mandatory", "albPorts": [443]},
               "no-wildcard-iam": {"exceptions": [{"resource": "task-*", "reason": "a reason of twenty characters"}]}}
    path = config_file(tmp_path, content)
    config = read_policy_config(path)
    check_against_pack(config, pack.info.policies, path)
    pack.configure(config)


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.sampled_from(LEVELS),
              st.text(max_size=20), st.just("x" * 100_000)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=15), inner, max_size=3)),
    max_leaves=10)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_policy_config_is_accepted_by_the_schemas_or_refused_in_one_short_message(tmp_path, running_pack, data):
    policies = running_pack.info.policies
    names = [p.name for p in policies]
    knobs = sorted({k for p in policies for k in p.config_schema.get("properties", {})} | {"enforcementLevel"})
    entry = st.one_of(st.sampled_from(LEVELS), JSON_VALUES,
                      st.dictionaries(st.sampled_from(knobs), JSON_VALUES, max_size=3))
    content = data.draw(st.one_of(
        st.dictionaries(st.one_of(st.sampled_from([*names, "all"]), st.text(max_size=30)), entry, max_size=4),
        JSON_VALUES))
    path = config_file(tmp_path, content)
    try:
        config = read_policy_config(path)
        check_against_pack(config, policies, path)
    except PolicyConfigError as error:
        assert str(error).startswith(f"{path}: ") and len(str(error)) <= 500 and "\n" not in str(error)
        return
    try:
        running_pack.configure(config)  # what the check lets through, the pack takes
    finally:
        running_pack.configure()
