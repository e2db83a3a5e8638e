"""templates/service: the skeleton app serves the health paths the platform probes and logs JSON; the
Dockerfile meets the image contract; the image workflow builds, gates, pushes and bumps as promised."""

from __future__ import annotations

import importlib.util
import io
import json
import re
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from components.mesh_service.container_definitions import APP_USER
from components.observability.logs import LOG_FIELDS, REQUEST_LINE_FIELDS

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "templates" / "service"


def _load_server():
    spec = importlib.util.spec_from_file_location("service_template_server", TEMPLATE / "app" / "server.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


server_module = _load_server()


@pytest.fixture
def running():
    """The skeleton on a loopback port, its log captured; stopped after the test."""
    stream = io.StringIO()
    log = server_module.JsonLog(stream, "example")
    server = server_module.make_server(("127.0.0.1", 0), log=log, path_prefix="/api/example")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", stream
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_health_answers_200_where_the_container_check_and_the_alb_probe_it(running):
    base, _ = running
    assert _get(f"{base}/health") == (200, {"status": "ok"})  # container health check (health path)
    assert _get(f"{base}/api/example/health") == (200, {"status": "ok"})  # ALB and Route 53 (prefix + path)
    assert _get(f"{base}/api/example/health?probe=1") == (200, {"status": "ok"})


@pytest.mark.parametrize("check, expected", [
    (lambda: True, (200, {"status": "ready"})),
    (lambda: False, (503, {"status": "not ready"})),
    (lambda: 1 / 0, (503, {"status": "not ready"})),  # a failing write probe: not ready, never a 500
])
def test_readiness_under_the_prefix_follows_the_services_write_probe(check, expected):
    server = server_module.make_server(("127.0.0.1", 0), log=server_module.JsonLog(io.StringIO(), "example"),
                                       path_prefix="/api/example", ready_check=check)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        assert _get(f"{base}/api/example/ready") == expected  # what the Route 53 failover check requests
        assert _get(f"{base}/api/example/health") == (200, {"status": "ok"})  # alive either way
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_other_paths_are_404_in_json(running):
    base, _ = running
    assert _get(f"{base}/api/other/health") == (404, {"error": "not found", "path": "/api/other/health"})


def test_every_request_is_one_json_log_line_in_the_platforms_log_contract(running):
    base, stream = running
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    _get(f"{base}/api/example/health", {"traceparent": f"00-{trace}-00f067aa0ba902b7-01", "X-Request-Id": "r-1"})
    _get(f"{base}/missing")
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(r["http_route"], r["http_status"]) for r in records] == [("/api/example/health", 200), ("/missing", 404)]
    assert (records[0]["trace_id"], records[0]["span_id"], records[0]["request_id"]) == (
        trace, "00f067aa0ba902b7", "r-1")
    assert records[1]["trace_id"] == "" and records[1]["request_id"]
    for record in records:
        # Every field of the contract (components/observability/logs.py), so the error filter and queries work.
        assert set(LOG_FIELDS) <= set(record) and set(REQUEST_LINE_FIELDS) <= set(record)
        assert record["service"] == "example" and record["level"] == "INFO" and record["http_method"] == "GET"


def test_lines_below_the_log_level_are_dropped_and_errors_are_upper_case():
    stream = io.StringIO()
    log = server_module.JsonLog(stream, "example", "warn")
    log.write("INFO", "dropped")
    log.write("ERROR", "kept")
    assert [json.loads(line)["level"] for line in stream.getvalue().splitlines()] == ["ERROR"]
    with pytest.raises(ValueError, match="LOG_LEVEL"):
        server_module.JsonLog(stream, "example", "verbose")


@pytest.mark.parametrize("header, expected", [
    ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "4bf92f3577b34da6a3ce929d0e0e4736"),
    ("00-00000000000000000000000000000000-00f067aa0ba902b7-01", None),  # all-zero id is invalid
    ("00-XYZ-00f067aa0ba902b7-01", None),
    (None, None),
])
def test_trace_id_reads_only_valid_traceparent_headers(header, expected):
    assert server_module.trace_id(header) == expected


def test_a_prefix_without_leading_slash_is_refused():
    with pytest.raises(ValueError, match="must start with '/'"):
        server_module.make_server(("127.0.0.1", 0), log=server_module.JsonLog(io.StringIO(), "x"),
                                  path_prefix="api/example")


def _dockerfile_stages() -> list[list[str]]:
    text = (TEMPLATE / "Dockerfile").read_text()
    instructions = [line.strip() for line in re.sub(r"\\\n\s*", " ", text).splitlines()
                    if line.strip() and not line.lstrip().startswith("#")]
    stages: list[list[str]] = []
    for instruction in instructions:
        if instruction.startswith("FROM "):
            stages.append([])
        stages[-1].append(instruction)
    return stages


def test_dockerfile_is_multi_stage_and_the_final_stage_is_distroless_running_as_the_contract_user():
    stages = _dockerfile_stages()
    assert len(stages) >= 2
    final = stages[-1]
    assert final[0].startswith("FROM gcr.io/distroless/")
    assert f"USER {APP_USER}" in final  # components/container_definitions.py: the task runs as this user
    users = [i for i in final if i.startswith("USER ")]
    assert users[-1] == f"USER {APP_USER}"
    assert 'VOLUME ["/tmp"]' in final
    assert any(i.startswith("ENTRYPOINT [") for i in final)  # exec form: no shell between ECS and the app


def test_dockerfile_brings_the_health_check_tools_and_a_tmp_owned_by_the_contract_user():
    build = " ".join(_dockerfile_stages()[0])
    assert "cp /bin/dash /rootfs/bin/sh" in build and "cp /usr/bin/curl /rootfs/usr/bin/curl" in build
    uid_gid = APP_USER
    assert f"chown {uid_gid} /rootfs/tmp" in build
    final = _dockerfile_stages()[-1]
    assert "COPY --from=contract /rootfs/ /" in final
    # Proves in the final image that the CMD-SHELL health check can run there.
    assert 'RUN ["/bin/sh", "-c", "curl --version > /dev/null"]' in final


def _image_workflow() -> dict:
    return yaml.safe_load((TEMPLATE / ".github" / "workflows" / "image.yml").read_text())


def test_image_is_built_for_the_catalogs_architecture_scanned_and_the_scan_gates_it():
    workflow = _image_workflow()
    catalog = yaml.safe_load((ROOT / "platform" / "services.yaml").read_text())["services"]
    assert workflow["env"]["ARCHITECTURE"] in {s["architecture"] for s in catalog.values()} | {"ARM64", "X86_64"}
    steps = workflow["jobs"]["build-scan"]["steps"]
    mapping = next(s for s in steps if s.get("id") == "target")["run"]
    assert 'ARM64) echo "platform=linux/arm64"' in mapping and 'X86_64) echo "platform=linux/amd64"' in mapping
    build = next(s for s in steps if s.get("uses", "").startswith("docker/build-push-action@"))["with"]
    assert build["platforms"] == "${{ steps.target.outputs.platform }}"
    assert build["cache-from"].startswith("type=gha") and build["cache-to"].startswith("type=gha")
    scan = next(s for s in steps if s.get("uses", "").startswith("aquasecurity/trivy-action@"))["with"]
    assert scan["severity"] == "HIGH,CRITICAL" and scan["exit-code"] == "1" and scan["format"] == "sarif"
    assert scan["input"] == build["outputs"].split("dest=")[1]  # the built tarball is what is scanned
    sarif = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    assert sarif["if"].startswith("always()") and sarif["with"]["sarif_file"] == scan["output"]


def test_the_scanned_image_is_pushed_tagged_by_commit_and_bumped_in_the_staging_primary_and_its_standby():
    workflow = _image_workflow()
    push = workflow["jobs"]["push"]
    assert push["needs"] == "build-scan" and "refs/heads/main" in push["if"]
    script = next(s for s in push["steps"] if "run" in s)["run"]
    assert 'docker push "$REGISTRY/$repository:$GITHUB_SHA"' in script
    assert workflow["env"]["ECR_REPOSITORIES"].split() == [f"{e}/{workflow['env']['SERVICE']}" for e in ("staging", "prod")]
    bump = workflow["jobs"]["bump-platform"]
    assert bump["needs"] == "push" and bump["permissions"] == {}
    run = bump["steps"][-1]["run"]
    assert '.config["microservices-foundation:services"].overrides' in run and "gh pr create --base main" in run
    # The standby runs its primary's image, so the bump edits both (the settings refuse a mismatch).
    assert workflow["env"]["STACK_FILES"].split() == ["Pulumi.staging.yaml", "Pulumi.staging-euw1.yaml"]
    assert 'for stack_file in $STACK_FILES; do' in run
    # The path the bump writes is the one the platform's stack files have.
    for stack_file in workflow["env"]["STACK_FILES"].split():
        staging = yaml.safe_load((ROOT / stack_file).read_text())["config"]
        assert all("image" in o for o in staging["microservices-foundation:services"]["overrides"].values())
