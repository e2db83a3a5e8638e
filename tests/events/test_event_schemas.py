"""Event schemas as code: every event of the catalog has one, a change that would break a subscriber is
refused naming the subscriber and the field, and what the outbox pipe puts on the bus validates."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml

from components.events import documents
from components.events.schemas import ENVELOPE_SCHEMA
from foundation.settings import ConfigError, load_catalog

PROJECT_DIR = Path(__file__).resolve().parents[2]
SCHEMAS = PROJECT_DIR / "platform" / "schemas"


@pytest.fixture
def platform(tmp_path: Path) -> Path:
    shutil.copytree(PROJECT_DIR / "platform", tmp_path / "platform")
    return tmp_path / "platform"


def _edit_schema(platform: Path, name: str, change) -> None:
    path = platform / "schemas" / f"{name}.json"
    schema = json.loads(path.read_text())
    change(schema)
    path.write_text(json.dumps(schema))


def _refusal(platform: Path) -> str:
    with pytest.raises(ConfigError) as error:
        load_catalog(platform / "services.yaml")
    return str(error.value)


def test_every_event_of_the_committed_catalog_has_a_schema_and_the_catalog_loads():
    catalog = load_catalog()
    published = {(name, t) for name, s in catalog.services.items() for t in s.publishes}
    assert published and published == {(p.parent.name, p.stem) for p in SCHEMAS.glob("*/*.json")}


def test_removing_a_required_field_is_refused_naming_the_subscribers_and_the_field(platform):
    _edit_schema(platform, "upload/UploadCompleted", lambda s: s["required"].remove("sizeBytes"))
    message = _refusal(platform)
    assert "upload/UploadCompleted.json: required field 'sizeBytes' (integer) was removed" in message
    assert "billing, vc-start subscribe to it" in message


def test_retyping_a_required_field_is_refused(platform):
    _edit_schema(platform, "vc-start/SessionEnded",
                 lambda s: s["properties"].update(durationSeconds={"type": "string"}))
    message = _refusal(platform)
    assert "'durationSeconds' changed type from integer to string" in message and "billing subscribes" in message


def test_a_nested_required_field_is_protected_too(platform):
    _edit_schema(platform, "upload/UploadCompleted", lambda s: s["properties"]["object"]["required"].remove("key"))
    assert "required field 'object.key' (string) was removed" in _refusal(platform)


def test_additions_and_changes_nobody_subscribes_to_are_accepted(platform):
    def add(schema: dict) -> None:
        schema["properties"]["checksum"] = {"type": "string"}
        schema["required"].append("checksum")
    _edit_schema(platform, "upload/UploadCompleted", add)
    _edit_schema(platform, "upload/UploadFailed", lambda s: s["required"].remove("reason"))  # no subscriber
    assert load_catalog(platform / "services.yaml").services["upload"].publishes


def test_a_subscription_to_a_detail_type_without_a_schema_is_refused(platform):
    (platform / "schemas" / "persona" / "PersonaUpdated.json").unlink()
    message = _refusal(platform)
    assert "services.billing.subscribes[2].detailTypes[0] = 'PersonaUpdated' has no schema" in message
    assert "platform/schemas/persona/PersonaUpdated.json" in message


def test_a_schema_for_an_event_nobody_publishes_is_refused(platform):
    shutil.copy(platform / "schemas" / "upload" / "UploadFailed.json", platform / "schemas" / "upload" / "Gone.json")
    assert "platform/schemas/upload/Gone.json: 'upload' does not publish 'Gone'" in _refusal(platform)


@pytest.mark.parametrize("text, expected", [
    ("{not json", "not JSON"),
    ('{"type": "array"}', 'must have "type": "object"'),
    ('{"type": "object", "required": ["a"], "properties": {}}', "required names 'a'"),
])
def test_a_malformed_schema_is_refused_naming_its_file(platform, text, expected):
    (platform / "schemas" / "upload" / "UploadFailed.json").write_text(text)
    message = _refusal(platform)
    assert message.startswith("platform/schemas/upload/UploadFailed.json: ") and expected in message


def test_the_committed_lock_is_current():
    from scripts.lock_event_schemas import main
    assert main(["--check"]) == 0


def test_the_lock_script_writes_a_breaking_change_only_when_it_is_named(platform):
    from scripts.lock_event_schemas import main
    _edit_schema(platform, "upload/UploadCompleted", lambda s: s["required"].remove("ownerId"))
    catalog = ["--catalog", str(platform / "services.yaml")]
    assert main(catalog) == 1
    assert main([*catalog, "--accept-breaking", "upload/UploadCompleted"]) == 0
    assert "ownerId" not in json.loads((platform / "schemas" / "lock.json").read_text())["upload/UploadCompleted"]
    assert load_catalog(platform / "services.yaml")  # the reviewed lock accepts the schema


# --- what the outbox pipe publishes ---------------------------------------------------------------------


def _stream_record(table: dict, detail_type: str, payload: dict) -> dict:
    """The DynamoDB stream record of an outbox item written as docs/events.md ("Outbox item") says."""
    image = {table["partitionKey"]["name"]: {"S": "outbox#e-1"}, "kind": {"S": "outbox"}, "eventId": {"S": "e-1"},
             "detailType": {"S": detail_type}, "occurredAt": {"S": "2026-12-07T20:00:00Z"},
             "payload": {"S": json.dumps(payload)}}
    if table.get("sortKey"):
        image[table["sortKey"]["name"]] = {"S": "outbox"}
    return {"eventName": "INSERT", "dynamodb": {"NewImage": image}}


def _matches(pattern: dict, record: dict) -> bool:
    """EventBridge pattern matching for the exact-value arrays the outbox filter uses."""
    for key, wanted in pattern.items():
        if isinstance(wanted, dict):
            if not isinstance(record.get(key), dict) or not _matches(wanted, record[key]):
                return False
        elif record.get(key) not in wanted:
            return False
    return True


def _render(template: str, record: dict) -> dict:
    """The input template with each quoted path replaced by its string value, JSON-escaped (Pipes keeps the
    output valid JSON: eb-pipes-input-transformation)."""
    def value(match: re.Match) -> str:
        node = record
        for part in match.group(1).split("."):
            node = node[part]
        return json.dumps(node)[1:-1]
    return json.loads(re.sub(r"<\$\.([A-Za-z0-9_.]+)>", value, template))


def _outbox_cases() -> list[tuple[str, str, dict]]:
    services = yaml.safe_load((PROJECT_DIR / "platform" / "services.yaml").read_text())["services"]
    return [(name, detail_type, example) for name, entry in services.items()
            if (entry.get("data") or {}).get("outbox") for detail_type in entry["publishes"]
            for example in json.loads((SCHEMAS / name / f"{detail_type}.json").read_text())["examples"]]


@pytest.mark.parametrize("service, detail_type, example", _outbox_cases())
def test_outbox_examples_pass_the_pipe_and_validate_against_envelope_and_schema(service, detail_type, example):
    services = yaml.safe_load((PROJECT_DIR / "platform" / "services.yaml").read_text())["services"]
    entry = services[service]
    record = _stream_record(entry["data"], detail_type, example)
    assert _matches(documents.outbox_filter(entry["publishes"]), record)
    target = documents.outbox_target_parameters(service)
    detail = _render(target["InputTemplate"], record)
    jsonschema.validate(detail, ENVELOPE_SCHEMA)
    schema = json.loads((SCHEMAS / service / f"{detail_type}.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(json.loads(detail["payload"]), schema)


def test_an_example_that_breaks_its_schema_fails_validation():
    schema = json.loads((SCHEMAS / "upload" / "UploadCompleted.json").read_text())
    bad = dict(schema["examples"][0], sizeBytes="7 MB")
    with pytest.raises(jsonschema.ValidationError, match="is not of type 'integer'"):
        jsonschema.validate(bad, schema)
