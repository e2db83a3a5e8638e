"""`python -m devkit new-service`: a validated catalog entry, the primary and its standby enabled, the
service repository scaffold, and nothing written when anything is wrong. All on a temp copy of the project."""

from __future__ import annotations

import functools
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from devkit import onboarding
from devkit.__main__ import main
from devkit.onboarding import NewService, OnboardingError, OnboardingResult, onboard
from foundation.settings import load_catalog, read_stack_file, settings_from_config

PROJECT_DIR = Path(__file__).resolve().parent.parent
WORKFLOW = """name: image
on:
  push:
env:
  # This service's entry in the platform catalog (platform/services.yaml).
  SERVICE: example
  PATH_PREFIX: /api/example
  ARCHITECTURE: ARM64 # ARM64 or X86_64, as in the catalog
  ECR_REPOSITORIES: staging/example prod/example
  AWS_REGION: eu-central-1
jobs:
  build:
    env:
      SERVICE: not-the-top-level-env
    runs-on: ubuntu-24.04
"""


def _copy_project(root: Path) -> Path:
    (root / "platform").mkdir(parents=True)
    for path in PROJECT_DIR.glob("Pulumi*.yaml"):
        shutil.copy(path, root / path.name)
    shutil.copy(PROJECT_DIR / "platform" / "services.yaml", root / "platform" / "services.yaml")
    # The event schemas live beside the catalog, which refuses subscriptions without them.
    shutil.copytree(PROJECT_DIR / "platform" / "schemas", root / "platform" / "schemas")
    return root


def _template(root: Path) -> Path:
    """A template with the shape of templates/service/ (the real one arrives with branch h/delivery)."""
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "image.yml").write_text(WORKFLOW)
    (root / "app").mkdir()
    (root / "app" / "server.py").write_text("print('hello')\n")
    (root / "Dockerfile").write_text("FROM scratch\n")
    return root


def _files(project: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in [*project.glob("Pulumi*.yaml"), project / "platform" / "services.yaml"]}


@pytest.fixture
def project(tmp_path) -> Path:
    return _copy_project(tmp_path / "project")


@dataclass(frozen=True)
class Onboarded:
    project: Path
    template: Path
    before: dict[str, str]
    result: OnboardingResult
    request: NewService


@pytest.fixture(scope="module")
def onboarded(tmp_path_factory) -> Onboarded:
    """`new-service ledger --image 0.1.0 --calls auth --scaffold DIR`, run once for the tests that read its result."""
    root = tmp_path_factory.mktemp("onboarded")
    project, template = _copy_project(root / "project"), _template(root / "template")
    before = _files(project)
    request = NewService(name="ledger", image="0.1.0", calls=("auth",), scaffold=root / "ledger")
    return Onboarded(project, template, before, onboard(request, project, template), request)


def test_new_service_appends_a_validated_entry_and_enables_it_in_the_primary_and_its_standby(onboarded):
    project, before, result = onboarded.project, onboarded.before, onboarded.result
    after = _files(project)
    assert sorted(p.name for p in result.changed if p.suffix == ".yaml") == [
        "Pulumi.staging-euw1.yaml", "Pulumi.staging.yaml", "services.yaml"]
    assert result.stacks == ["staging", "staging-euw1"]
    # Comments and every existing line stay; the entry is appended in the catalog's own layout.
    assert after["services.yaml"] == before["services.yaml"] + (
        "  ledger:\n    port: 8080\n    pathPrefix: /api/ledger\n    healthPath: /health\n    cpu: 256\n"
        "    memory: 512\n    architecture: ARM64\n    minTasks: 2\n    maxTasks: 4\n    listenerRulePriority: 600\n"
        "    calls: [auth]\n    secrets: []\n")
    for stack in ("staging", "staging-euw1"):
        text = after[f"Pulumi.{stack}.yaml"]
        assert "    enabled: [auth, persona, ledger]\n" in text
        assert '      ledger:\n        image: "0.1.0"\n' in text
        settings = settings_from_config(stack, read_stack_file(stack, project).config,
                                        load_catalog(project / "platform" / "services.yaml"))
        assert settings.service("ledger").image == "0.1.0"
    assert after["Pulumi.prod.yaml"] == before["Pulumi.prod.yaml"]


def test_the_scaffold_fills_the_image_workflow_from_the_catalog_entry(onboarded):
    scaffold = onboarded.request.scaffold
    workflow = (scaffold / ".github" / "workflows" / "image.yml").read_text()
    assert ("  SERVICE: ledger\n  PATH_PREFIX: /api/ledger\n  ARCHITECTURE: ARM64 # ARM64 or X86_64, as in the "
            "catalog\n  ECR_REPOSITORIES: staging/ledger prod/ledger\n  AWS_REGION: eu-central-1\n") in workflow
    assert "      SERVICE: not-the-top-level-env\n" in workflow
    assert (scaffold / "app" / "server.py").read_text() == "print('hello')\n"


def test_running_it_again_from_the_cli_changes_nothing_and_prints_the_next_steps(onboarded, monkeypatch, capsys):
    files = _files(onboarded.project)
    scaffold = {p: p.read_bytes() for p in onboarded.request.scaffold.rglob("*") if p.is_file()}
    monkeypatch.setattr(onboarding, "onboard", functools.partial(onboard, project_dir=onboarded.project,
                                                                 template_dir=onboarded.template))

    assert main(["new-service", "ledger", "--image", "0.1.0", "--calls", "auth",
                 "--scaffold", str(onboarded.request.scaffold)]) == 0

    out = capsys.readouterr().out
    assert "ledger is already onboarded as asked; nothing changed." in out
    assert "Next steps:" in out and "staging/ledger:0.1.0" in out
    assert _files(onboarded.project) == files
    assert {p: p.read_bytes() for p in onboarded.request.scaffold.rglob("*") if p.is_file()} == scaffold


def test_prod_keeps_its_flow_style_overrides(project):
    onboard(NewService(name="ledger", image="sha256:" + "a" * 64, stacks=("prod",)), project)
    text = (project / "Pulumi.prod.yaml").read_text()
    assert f'      ledger: {{image: "sha256:{"a" * 64}"}}\n' in text
    assert "enabled: [auth, persona, vc-start, upload, billing, ledger]" in (project / "Pulumi.prod-euw1.yaml").read_text()


def test_an_internal_service_has_no_route_and_no_rule_priority(project):
    onboard(NewService(name="ledger", image="0.1.0", internal=True), project)
    entry = yaml.safe_load((project / "platform" / "services.yaml").read_text())["services"]["ledger"]
    assert "pathPrefix" not in entry and "listenerRulePriority" not in entry


@pytest.mark.parametrize("request_, message", [
    (NewService(name="auth", image="1.0.0"), "service 'auth' already exists"),
    (NewService(name="ledger", image="1.0.0", calls=("billing",)), "'ledger' calls ['billing']"),
    (NewService(name="ledger", image="1.0.0", cpu=100), "services.ledger.cpu"),
    (NewService(name="ledger", image="1.0.0", stacks=("staging-euw1",)), "'staging-euw1' is not a primary stack"),
    (NewService(name="Ledger", image="1.0.0"), "NAME 'Ledger'"),
])
def test_a_request_that_does_not_validate_writes_nothing(project, request_, message):
    before = _files(project)
    with pytest.raises(OnboardingError) as error:
        onboard(request_, project)
    assert message in str(error.value)
    assert _files(project) == before


def test_the_cli_refuses_an_existing_name_with_exit_2_and_one_message(project, monkeypatch, capsys):
    monkeypatch.setattr(onboarding, "onboard", functools.partial(onboard, project_dir=project))
    assert main(["new-service", "persona", "--image", "2.0.0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "service 'persona' already exists" in err


@pytest.mark.parametrize("argv, message", [
    (["new-service", "ledger", "--image", "1", "--internal", "--path-prefix", "/api/x"], "not allowed with"),
    (["new-service", "ledger"], "--image"),
    (["new-service", "ledger", "--image", "1", "--port", "eighty"], "--port"),
])
def test_bad_flags_are_one_message_and_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
