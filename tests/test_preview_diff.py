"""Deterministic `--json` and `preview --diff BASE.json`: what a pull request changes, resource by resource."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest

from devkit import diff
from devkit.__main__ import main
from devkit.mocks import RecordedResource, Recorder
from devkit.render import json_text, preview_document
from devkit.run import preview_stack

PROJECT_DIR = Path(__file__).resolve().parent.parent
SECRET = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}


def test_json_orders_records_by_urn_and_dependencies_whatever_the_registration_order():
    def record(urn, deps):
        return RecordedResource(urn=urn, type="aws:s3/bucket:Bucket", name=urn, custom=True, parent=None,
                                provider=None, provider_region="eu-central-1", inputs={"b": 1, "a": {"d": 2, "c": 3}},
                                outputs={}, dependencies=deps, property_dependencies={"z": deps, "a": deps[::-1]})

    class Monitor:
        def __init__(self, records):
            self.records = records

    first = Recorder(Monitor([record("urn:b", ["urn:y", "urn:x"]), record("urn:a", ["urn:x", "urn:y"])]))
    second = Recorder(Monitor([record("urn:a", ["urn:y", "urn:x"]), record("urn:b", ["urn:x", "urn:y"])]))
    assert json.dumps(first.to_json()) == json.dumps(second.to_json())
    assert [r["urn"] for r in first.to_json()] == ["urn:a", "urn:b"]
    assert list(first.to_json()[0]["inputs"]) == ["a", "b"] and list(first.to_json()[0]["inputs"]["a"]) == ["c", "d"]
    assert first.to_json()[0]["propertyDependencies"] == {"a": ["urn:x", "urn:y"], "z": ["urn:x", "urn:y"]}


@pytest.fixture(scope="module")
def staging_with_auth_max_tasks_3(tmp_path_factory):
    """A second offline preview of staging, from a copy of the stack files where auth scales to 3 tasks.
    One run serves both the determinism and the diff test (each full run costs ~2 s)."""
    project = tmp_path_factory.mktemp("project")
    for path in PROJECT_DIR.glob("Pulumi*.yaml"):
        shutil.copy(path, project / path.name)
    shutil.copytree(PROJECT_DIR / "platform", project / "platform")
    stack_file = project / "Pulumi.staging.yaml"
    text = stack_file.read_text()
    override = '      auth:\n        image: "1.4.0"\n        cpu: 128\n        minTasks: 1\n        maxTasks: 2\n'
    assert override in text
    stack_file.write_text(text.replace(override, override.replace("maxTasks: 2", "maxTasks: 3")))
    return preview_document(preview_stack("staging", project_dir=project))


def test_two_staging_previews_write_byte_identical_json_but_for_the_changed_input(staging,
                                                                                 staging_with_auth_max_tasks_3):
    head = copy.deepcopy(staging_with_auth_max_tasks_3)
    [target] = [r for r in head["resources"] if r["name"] == "staging-auth-scaling"]
    assert target["inputs"]["maxCapacity"] == 3
    target["inputs"]["maxCapacity"] = target["outputs"]["maxCapacity"] = 2.0
    # Registration order, dependency order and key order all vary between runs; the bytes must not.
    assert json_text(head) == json_text(preview_document(staging))


def test_diff_of_a_max_tasks_change_lists_exactly_the_scaling_target(staging, staging_with_auth_max_tasks_3):
    result = diff.diff_documents(preview_document(staging), staging_with_auth_max_tasks_3)

    target = staging.recorder.one("aws:appautoscaling/target:Target", "staging-auth-scaling")
    assert [(c.operation, c.urn) for c in result.changes] == [("update", target.urn)]
    assert [p.describe() for p in result.changes[0].properties] == ["~ maxCapacity: 2 => 3"]
    assert result.unchanged == len(staging.recorder.resources) - 1
    text = diff.render_text(result, "base.json")
    assert "~  aws:appautoscaling/target:Target  staging-auth-scaling  update" in text
    assert text.endswith(f"Resources: 1 to update; {result.unchanged} unchanged")


def _doc(*records):
    return {"stack": "s", "resources": list(records)}


def _rec(urn, typ="aws:lb/targetGroup:TargetGroup", inputs=None, deps=None):
    return {"urn": urn, "type": typ, "name": urn.rsplit("::", 1)[-1], "inputs": inputs or {},
            "providerRegion": "eu-central-1", "propertyDependencies": deps or {}}


def test_new_and_removed_urns_are_create_and_delete():
    result = diff.diff_documents(_doc(_rec("u::old")), _doc(_rec("u::new")))
    assert [(c.operation, c.name) for c in result.changes] == [("create", "new"), ("delete", "old")]


def test_a_force_new_property_replaces_and_its_dependents_see_the_new_arn():
    base = _doc(_rec("u::tg", inputs={"port": 8080, "healthCheck": {"path": "/health"}}),
                _rec("u::svc", "aws:ecs/service:Service", {"loadBalancers": [{"targetGroupArn": "arn:tg"}]},
                     {"loadBalancers": ["u::tg"]}),
                _rec("u::other", "aws:ecs/service:Service", {"desiredCount": 1}))
    head = _doc(_rec("u::tg", inputs={"port": 9090, "healthCheck": {"path": "/health"}}),
                _rec("u::svc", "aws:ecs/service:Service", {"loadBalancers": [{"targetGroupArn": "arn:tg"}]},
                     {"loadBalancers": ["u::tg"]}),
                _rec("u::other", "aws:ecs/service:Service", {"desiredCount": 1}))
    result = diff.diff_documents(base, head)
    by_name = {c.name: c for c in result.changes}
    assert set(by_name) == {"tg", "svc"}
    assert by_name["tg"].operation == "replace"
    assert by_name["tg"].properties[0].describe() == "~ port: 8080 => 9090"
    assert by_name["svc"].operation == "update"
    assert by_name["svc"].properties[0].describe().endswith("=> (known after replace)")


def test_an_unforced_nested_change_is_an_update_with_its_path():
    base = _doc(_rec("u::tg", inputs={"healthCheck": {"path": "/health", "interval": 30}}))
    head = _doc(_rec("u::tg", inputs={"healthCheck": {"path": "/ready", "interval": 30}}))
    [change] = diff.diff_documents(base, head).changes
    assert change.operation == "update"
    assert [p.describe() for p in change.properties] == ['~ healthCheck.path: "/health" => "/ready"']


def test_json_string_properties_are_compared_field_by_field():
    definitions = [{"name": "app", "image": "repo:1", "cpu": 256}]
    base = _doc(_rec("u::td", "aws:ecs/taskDefinition:TaskDefinition", {"containerDefinitions": json.dumps(definitions)}))
    definitions[0]["image"] = "repo:2"
    head = _doc(_rec("u::td", "aws:ecs/taskDefinition:TaskDefinition", {"containerDefinitions": json.dumps(definitions)}))
    [change] = diff.diff_documents(base, head).changes
    assert change.operation == "replace"
    assert [p.describe() for p in change.properties] == ['~ containerDefinitions[0].image: "repo:1" => "repo:2"']


def test_a_changed_secret_is_listed_but_never_shown():
    base = _doc(_rec("u::p", "aws:ssm/parameter:Parameter", {"value": {**SECRET, "value": "hunter2"}}))
    head = _doc(_rec("u::p", "aws:ssm/parameter:Parameter", {"value": {**SECRET, "value": "swordfish"}}))
    result = diff.diff_documents(base, head)
    text = diff.render_text(result, "b") + diff.render_markdown(result, "b")
    assert "~ value: [secret] => [secret]" in text
    assert "hunter2" not in text and "swordfish" not in text


def test_a_type_without_replacement_rules_says_so():
    base = _doc(_rec("u::x", "aws:sqs/queue:Queue", {"delaySeconds": 0}))
    head = _doc(_rec("u::x", "aws:sqs/queue:Queue", {"delaySeconds": 5}))
    assert "replacement rules for this type are not in devkit/replacement.py" in diff.render_text(
        diff.diff_documents(base, head), "b")


def test_markdown_puts_the_changes_in_a_diff_block():
    markdown = diff.render_markdown(diff.diff_documents(_doc(), _doc(_rec("u::tg"))), "base.json")
    assert "```diff\n+ + aws:lb/targetGroup:TargetGroup  tg  create\n```" in markdown


@pytest.mark.parametrize("content, message", [
    ("not json", "not JSON"),
    ('{"stack": "staging"}', "key 'resources' missing"),
    ('{"stack": "prod", "resources": []}', "key 'stack' is 'prod'"),
])
def test_a_bad_base_file_is_one_message_and_exit_2(tmp_path, capsys, content, message):
    base = tmp_path / "base.json"
    base.write_text(content)
    assert main(["preview", "--stack", "staging", "--diff", str(base)]) == 2
    err = capsys.readouterr().err
    assert str(base) in err and message in err and "Traceback" not in err
