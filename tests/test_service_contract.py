"""The contract test the service template ships (templates/service/tests): a service repository's published
examples against the platform's schemas and its calls against the callees' declared routes, run here on a
copy of the template filled in as the `upload` service."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
TEMPLATE = PROJECT_DIR / "templates" / "service"
sys.path.insert(0, str(TEMPLATE / "tests"))
import contract_check  # noqa: E402


def _examples(detail_type: str) -> list[dict]:
    return json.loads((PROJECT_DIR / "platform" / "schemas" / "upload" / f"{detail_type}.json").read_text())["examples"]


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """The template as the upload service's repository: its examples and its one call to auth."""
    repo = tmp_path / "upload"
    shutil.copytree(TEMPLATE, repo)
    for detail_type in ("UploadCompleted", "UploadFailed"):
        (repo / "contract" / "events" / f"{detail_type}.json").write_text(json.dumps(_examples(detail_type)))
    (repo / "contract" / "calls.json").write_text(json.dumps([
        {"service": "auth", "method": "POST", "path": "/api/auth/token"},
        {"service": "auth", "method": "GET", "path": "/api/auth/keys/k-2026?fresh=1"}]))
    return repo


def test_the_shipped_contract_tests_pass_for_a_service_that_keeps_the_contract(repository, monkeypatch):
    monkeypatch.setenv("SERVICE", "upload")
    monkeypatch.setenv("PLATFORM_DIR", str(PROJECT_DIR))
    sys.path.insert(0, str(repository / "tests"))
    try:
        import test_contract as shipped
        shipped.ROOT = repository
        shipped.test_published_events_match_the_platform_schemas()
        shipped.test_calls_match_the_callees_declared_routes()
    finally:
        sys.path.remove(str(repository / "tests"))
        sys.modules.pop("test_contract", None)


def test_an_example_that_breaks_the_schema_is_reported_with_its_field(repository):
    example = dict(_examples("UploadCompleted")[0], sizeBytes="7 MB")
    example.pop("ownerId")
    (repository / "contract" / "events" / "UploadCompleted.json").write_text(json.dumps([example]))
    problems = contract_check.event_problems("upload", PROJECT_DIR, repository / "contract")
    assert "contract/events/UploadCompleted.json[0] sizeBytes: '7 MB' is not of type 'integer'" in problems
    assert "contract/events/UploadCompleted.json[0] (payload): 'ownerId' is a required property" in problems


def test_a_published_event_without_examples_and_examples_of_an_unpublished_event_are_reported(repository):
    (repository / "contract" / "events" / "UploadFailed.json").rename(
        repository / "contract" / "events" / "UploadLost.json")
    problems = contract_check.event_problems("upload", PROJECT_DIR, repository / "contract")
    assert any(p.startswith("contract/events/UploadLost.json: upload does not publish UploadLost") for p in problems)
    assert "contract/events/UploadFailed.json is missing: give at least one example payload" in problems


@pytest.mark.parametrize("call, expected", [
    ({"service": "persona", "method": "GET", "path": "/api/persona/personas/p-1"},
     "upload does not list 'persona' in its catalog calls ['auth']"),
    ({"service": "auth", "method": "DELETE", "path": "/api/auth/token"}, "auth declares no such route"),
    ({"service": "auth", "method": "GET", "path": "/api/auth/keys/k-1/extra"}, "auth declares no such route"),
])
def test_calls_outside_the_catalog_or_the_callees_routes_are_reported(repository, call, expected):
    (repository / "contract" / "calls.json").write_text(json.dumps([call]))
    [problem] = contract_check.call_problems("upload", PROJECT_DIR, repository / "contract")
    assert expected in problem


def test_routes_are_validated_in_the_catalog(tmp_path):
    import yaml

    from foundation.settings import ConfigError, load_catalog
    shutil.copytree(PROJECT_DIR / "platform", tmp_path / "platform")
    catalog = tmp_path / "platform" / "services.yaml"
    document = yaml.safe_load(catalog.read_text())
    document["services"]["auth"]["routes"] = ["POST /api/billing/charge"]
    catalog.write_text(yaml.safe_dump(document))
    with pytest.raises(ConfigError, match=r"routes \['POST /api/billing/charge'\] are not under pathPrefix /api/auth"):
        load_catalog(catalog)
    document["services"]["auth"]["routes"] = ["FETCH /api/auth/token"]
    catalog.write_text(yaml.safe_dump(document))
    with pytest.raises(ConfigError, match=r"services\.auth\.routes"):
        load_catalog(catalog)
