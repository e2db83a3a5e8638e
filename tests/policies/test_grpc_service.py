"""A grpc service in a test catalog: Service Connect speaks gRPC to it, its ALB target groups use the GRPC
protocol version and the gRPC health service, and the pack passes the stack."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from devkit.run import StackPreview, preview_stack
from foundation.settings import ConfigError, load_stack

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent
GRPC_HEALTH = "/grpc.health.v1.Health/Check"


def _project(tmp: Path, change) -> Path:
    shutil.copytree(PROJECT_DIR / "platform", tmp / "platform")
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", tmp / "Pulumi.yaml")
    for stack_file in PROJECT_DIR.glob("Pulumi.*.yaml"):
        shutil.copy(stack_file, tmp / stack_file.name)
    catalog = tmp / "platform" / "services.yaml"
    document = yaml.safe_load(catalog.read_text())
    change(document["services"])
    catalog.write_text(yaml.safe_dump(document, sort_keys=False))
    return tmp


def _upload_speaks_grpc(services: dict) -> None:
    services["upload"] |= {"protocol": "grpc", "pathPrefix": "/upload.v1.Upload", "healthPath": GRPC_HEALTH,
                           "routes": ["POST /upload.v1.Upload/Create", "POST /upload.v1.Upload/Get"]}


@pytest.fixture(scope="module")
def grpc_prod(tmp_path_factory) -> StackPreview:
    return preview_stack("prod", project_dir=_project(tmp_path_factory.mktemp("grpc"), _upload_speaks_grpc))


def _of(preview: StackPreview, typ: str, name_part: str) -> list[dict]:
    return [r for r in preview.recorder.to_json() if r["type"] == typ and name_part in r["name"]]


def test_a_grpc_service_gets_grpc_app_protocol_and_the_grpc_container_health_check(grpc_prod):
    [task] = _of(grpc_prod, "aws:ecs/taskDefinition:TaskDefinition", "upload")
    app = next(c for c in json.loads(task["inputs"]["containerDefinitions"]) if c["name"] == "upload")
    assert app["portMappings"][0]["appProtocol"] == "grpc"
    command = app["healthCheck"]["command"][1]
    assert "--http2-prior-knowledge" in command and f"http://127.0.0.1:8080{GRPC_HEALTH}" in command
    assert "grpc-status: 0" in command
    [auth_task] = _of(grpc_prod, "aws:ecs/taskDefinition:TaskDefinition", "auth")
    auth = json.loads(auth_task["inputs"]["containerDefinitions"])[0]
    assert auth["portMappings"][0]["appProtocol"] == "http"


def test_a_grpc_services_target_groups_use_grpc_and_its_health_service(grpc_prod):
    groups = _of(grpc_prod, "aws:lb/targetGroup:TargetGroup", "upload")
    assert len(groups) == 2
    for group in groups:
        inputs = group["inputs"]
        assert inputs["protocolVersion"] == "GRPC" and inputs["protocol"] == "HTTP"
        assert inputs["healthCheck"]["path"] == GRPC_HEALTH and inputs["healthCheck"]["matcher"] == "0"
    [rule] = _of(grpc_prod, "aws:lb/listenerRule:ListenerRule", "upload-route")
    assert rule["inputs"]["conditions"][0]["pathPattern"]["values"] == ["/upload.v1.Upload", "/upload.v1.Upload/*"]
    auth_groups = _of(grpc_prod, "aws:lb/targetGroup:TargetGroup", "auth")
    assert {g["inputs"]["protocolVersion"] for g in auth_groups} == {"HTTP1"}


def test_the_pack_passes_the_stack_with_a_grpc_service(pack, grpc_prod):
    verdicts = [(d.policy_name, d.enforcement_level) for d in pack.preview(grpc_prod.recorder.to_json())]
    assert [v for v in verdicts if v[1] == "mandatory"] == []


def _with_ledger_in_staging(tmp: Path, routed: bool) -> Path:
    """A new grpc service `ledger`, enabled in staging with its dns removed, so its ALB listens on HTTP only."""
    ledger = {"port": 8080, "healthPath": GRPC_HEALTH, "cpu": 256, "memory": 512, "minTasks": 2, "maxTasks": 4,
              "protocol": "grpc", "calls": [], "secrets": []}
    if routed:
        ledger |= {"pathPrefix": "/ledger.v1.Ledger", "listenerRulePriority": 900}
    project = _project(tmp, lambda services: services.update(ledger=ledger))
    stack_file = project / "Pulumi.staging.yaml"
    document = yaml.safe_load(stack_file.read_text())
    services = document["config"]["microservices-foundation:services"]
    services["enabled"].append("ledger")
    services["overrides"]["ledger"] = {"image": "1.0.0"}
    document["config"].pop("microservices-foundation:dns")
    stack_file.write_text(yaml.safe_dump(document, sort_keys=False))
    return project


def test_a_routed_grpc_service_is_refused_where_the_alb_has_no_https_listener(tmp_path):
    project = _with_ledger_in_staging(tmp_path, routed=True)
    with pytest.raises(ConfigError, match=r"services\.ledger .*routed grpc service needs the ALB's HTTPS listener"):
        load_stack("staging", project)


def test_an_internal_grpc_service_runs_without_https(tmp_path):
    settings = load_stack("staging", _with_ledger_in_staging(tmp_path, routed=False))
    assert settings.service("ledger").protocol == "grpc" and not settings.service("ledger").routed


@pytest.mark.parametrize("change, message", [
    ({"protocol": "grpc"}, "healthPath is the gRPC health service"),
    ({"protocol": "grpc", "healthPath": GRPC_HEALTH}, "routed by its proto service"),
    ({"protocol": "http3"}, "protocol"),
    ({"pathPrefix": "/upload.v1.Upload"}, "a lowercase path such as /api/auth"),
])
def test_the_catalog_refuses_protocol_settings_that_cannot_work(tmp_path, change, message):
    project = _project(tmp_path, lambda services: services["upload"].update(change))
    with pytest.raises(ConfigError, match=message):
        load_stack("prod", project)
