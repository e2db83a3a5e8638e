"""The catalog's `client` block reaches the app as the environment the template's client reads: one place
for operators, the seeds' values by default, refused when it cannot nest in the stack's timeouts."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import yaml

from components.mesh_service.client_policy import ClientPolicy
from components.mesh_service.container_definitions import container_definitions
from foundation.settings import ConfigError, load_catalog, load_stack
from tests.test_container_definitions import make_spec

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR / "templates" / "service" / "app"))
import client as template_client  # noqa: E402


def _environment(**overrides: object) -> dict[str, str]:
    spec, _ = make_spec(**overrides)
    return {e["name"]: e["value"] for e in container_definitions(spec)[0]["environment"]}


def test_the_seeds_policy_is_injected_by_default_with_the_stacks_timeouts():
    env = _environment(http_client_timeout_seconds=2, service_connect_per_request_timeout_seconds=3)
    assert {k: v for k, v in env.items() if k.startswith(("CLIENT_", "HTTP_CLIENT", "SERVICE_REQUEST"))} == {
        "CLIENT_MAX_ATTEMPTS": "3", "CLIENT_BACKOFF_MIN_MS": "25", "CLIENT_BACKOFF_MAX_MS": "250",
        "CLIENT_PER_TRY_TIMEOUT_MS": "1000", "CLIENT_RETRY_STATUSES": "502,503,504",
        "CLIENT_BREAKER_FAILURE_PERCENT": "50", "CLIENT_BREAKER_MIN_REQUESTS": "10",
        "CLIENT_BREAKER_WINDOW_SECONDS": "30", "CLIENT_BREAKER_COOLDOWN_SECONDS": "30",
        "HTTP_CLIENT_TIMEOUT_SECONDS": "2", "SERVICE_REQUEST_TIMEOUT_SECONDS": "3"}


def test_the_template_client_reads_exactly_what_the_platform_injects():
    policy = ClientPolicy(max_attempts=5, backoff_min_ms=40, backoff_max_ms=200, per_try_timeout_ms=600,
                          retry_statuses=(503,), breaker_failure_percent=70, breaker_min_requests=20,
                          breaker_window_seconds=20, breaker_cooldown_seconds=5)
    settings = template_client.ClientSettings.from_env(_environment(client=policy))
    assert (settings.max_attempts, settings.backoff_min_ms, settings.backoff_max_ms, settings.per_try_timeout_ms,
            settings.overall_timeout_ms, set(settings.retry_statuses), settings.breaker_failure_percent,
            settings.breaker_min_requests, settings.breaker_window_seconds, settings.breaker_cooldown_seconds) == (
        5, 40, 200, 600, 2000, {503}, 70, 20, 20, 5)
    # The template's defaults are the platform's: a service run without the platform behaves the same.
    assert template_client.ClientSettings.from_env(_environment()) == template_client.ClientSettings()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(PROJECT_DIR / "platform", tmp_path / "platform")
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    for stack_file in PROJECT_DIR.glob("Pulumi.*.yaml"):
        shutil.copy(stack_file, tmp_path / stack_file.name)
    return tmp_path


def _set_client(project: Path, service: str, block: dict) -> None:
    catalog = project / "platform" / "services.yaml"
    document = yaml.safe_load(catalog.read_text())
    document["services"][service]["client"] = block
    catalog.write_text(yaml.safe_dump(document, sort_keys=False))


def test_a_catalog_client_block_reaches_the_service(project):
    _set_client(project, "persona", {"maxAttempts": 4, "retryStatuses": [503]})
    persona = load_stack("staging", project).service("persona")
    assert persona.client == ClientPolicy(max_attempts=4, retry_statuses=(503,))


@pytest.mark.parametrize("block, message", [
    ({"maxAttempts": 9}, r"services\.persona\.client\.maxAttempts"),
    ({"retryStatuses": [404]}, r"services\.persona\.client\.retryStatuses"),
    ({"backoffMinMs": 300}, "backoffMinMs"),
    ({"retries": 3}, r"services\.persona\.client\.retries"),
])
def test_a_bad_client_block_is_refused_naming_the_key(project, block, message):
    _set_client(project, "persona", block)
    with pytest.raises(ConfigError, match=message):
        load_catalog(project / "platform" / "services.yaml")


def test_a_per_try_timeout_beyond_the_stacks_client_timeout_is_refused_naming_both(project):
    _set_client(project, "persona", {"perTryTimeoutMs": 2500})  # staging's clientTimeoutSeconds is 2
    with pytest.raises(ConfigError, match=r"services\.persona .*perTryTimeoutMs 2500 .*clientTimeoutSeconds = 2"):
        load_stack("staging", project)


@pytest.mark.parametrize("protocol, health_path", [("http2", "/health"), ("grpc", "/grpc.health.v1.Health/Check")])
def test_http2_and_grpc_task_definitions_are_valid_for_the_ecs_api(protocol, health_path):
    from tests.ecs_api import register_task_definition_problems
    from tests.test_container_definitions import register_request

    spec, size = make_spec(protocol=protocol, health_path=health_path)
    definitions = container_definitions(spec)
    assert definitions[0]["portMappings"][0]["appProtocol"] == protocol
    assert register_task_definition_problems(register_request(definitions, size)) == []


def test_the_dynamodb_idempotency_store_needs_only_what_the_task_role_allows_and_never_publishes():
    import idempotency

    from components.data.access import TABLE_ACTIONS
    from components.events.documents import outbox_filter
    calls: list[str] = []

    class Recording:
        def __getattr__(self, name: str):
            def call(**kwargs: object) -> dict:
                calls.append(name)
                return {"Item": kwargs.get("Item")} if name == "get_item" else {}
            return call

    store = idempotency.DynamoDbStore(Recording(), "staging-upload", partition_key="pk", ttl_attribute="expiresAt")
    store.claim("k", "h", 60)
    store.complete("k", idempotency.Outcome("h", 201, b"{}"), 60)
    store.release("k")
    actions = {"dynamodb:" + "".join(part.title() for part in name.split("_")) for name in calls}
    assert actions == {"dynamodb:PutItem", "dynamodb:DeleteItem"} and actions <= set(TABLE_ACTIONS)
    assert {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"} <= set(TABLE_ACTIONS)
    # Its items share the table's stream with outbox items; the pipe's filter lets none of them through.
    item = store._item("k", idempotency.Outcome("h", 201, b"{}"), 60)
    pattern = outbox_filter(["UploadCompleted"])["dynamodb"]["NewImage"]["kind"]["S"]
    assert item["kind"]["S"] not in pattern
