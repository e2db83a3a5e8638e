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
  STACK_FILES: Pulumi.staging.yaml Pulumi.staging-euw1.yaml
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


def _flat_costs(root: Path, stacks: list[str]) -> dict[str, float]:
    """For tests about files, not money: every stack at €10 before and after (within any budget)."""
    return dict.fromkeys(stacks, 10.0)


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
    return Onboarded(project, template, before, onboard(request, project, template, costs_of=_flat_costs), request)


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
            "catalog\n  ECR_REPOSITORIES: staging/ledger\n  AWS_REGION: eu-central-1\n") in workflow
    assert "      SERVICE: not-the-top-level-env\n" in workflow
    assert (scaffold / "app" / "server.py").read_text() == "print('hello')\n"


def test_running_it_again_from_the_cli_changes_nothing_and_prints_the_next_steps(onboarded, monkeypatch, capsys):
    files = _files(onboarded.project)
    scaffold = {p: p.read_bytes() for p in onboarded.request.scaffold.rglob("*") if p.is_file()}
    monkeypatch.setattr(onboarding, "onboard", functools.partial(onboard, project_dir=onboarded.project,
                                                                 template_dir=onboarded.template,
                                                                 costs_of=_flat_costs))

    assert main(["new-service", "ledger", "--image", "0.1.0", "--calls", "auth",
                 "--scaffold", str(onboarded.request.scaffold)]) == 0

    out = capsys.readouterr().out
    assert "ledger is already onboarded as asked; nothing changed." in out
    assert "Next steps:" in out and "staging/ledger:0.1.0" in out
    assert _files(onboarded.project) == files
    assert {p: p.read_bytes() for p in onboarded.request.scaffold.rglob("*") if p.is_file()} == scaffold


def test_prod_keeps_its_flow_style_overrides(project):
    onboard(NewService(name="ledger", image="sha256:" + "a" * 64, stacks=("prod",)), project, costs_of=_flat_costs)
    text = (project / "Pulumi.prod.yaml").read_text()
    assert f'      ledger: {{image: "sha256:{"a" * 64}"}}\n' in text
    assert "enabled: [auth, persona, vc-start, upload, billing, ledger]" in (project / "Pulumi.prod-euw1.yaml").read_text()


def test_an_internal_service_has_no_route_and_no_rule_priority(project):
    onboard(NewService(name="ledger", image="0.1.0", internal=True), project, costs_of=_flat_costs)
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
        onboard(request_, project, costs_of=_flat_costs)
    assert message in str(error.value)
    assert _files(project) == before


def test_the_cli_refuses_an_existing_name_with_exit_2_and_one_message(project, monkeypatch, capsys):
    monkeypatch.setattr(onboarding, "onboard", functools.partial(onboard, project_dir=project, costs_of=_flat_costs))
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


# ----- onboarding that stays green: cost before writing, repositories that exist, standby follows -----

def _committed_or_previewed_costs(root: Path, stacks: list[str]) -> dict[str, float]:
    """The real estimates; the unchanged project's come from the session's previews of the committed stacks."""
    from devkit.costs import stack_estimate
    from tests.conftest import _standby, stack_preview

    if _files(root) == _files(PROJECT_DIR) and all((root / "platform" / f).exists() for f in ("prices.yaml",)):
        previews = {"staging": lambda: stack_preview("staging"), "prod": lambda: stack_preview("prod"),
                    "staging-euw1": lambda: _standby("staging-euw1", "staging"),
                    "prod-euw1": lambda: _standby("prod-euw1", "prod")}
        return {stack: stack_estimate(previews[stack]()).total_eur for stack in stacks}
    return onboarding.stack_costs(root, stacks)


def _readme_example() -> list[str]:
    readme = (PROJECT_DIR / "README.md").read_text()
    line = next(line for line in readme.splitlines() if line.startswith("python -m devkit new-service "))
    return line.split("#")[0].split()[3:]


def test_the_readme_example_name_is_no_catalog_service_and_no_test_fixture():
    name = _readme_example()[1]
    assert name not in yaml.safe_load((PROJECT_DIR / "platform" / "services.yaml").read_text())["services"]
    others = [p for p in (PROJECT_DIR / "tests").rglob("*.py") if p.name != "test_onboarding.py"]
    assert [p.name for p in others if name in p.read_text()] == []


def test_the_readme_example_prints_the_cost_and_refuses_a_broken_budget_with_exit_2_writing_nothing(
        tmp_path, monkeypatch, capsys):
    project = _copy_project(tmp_path / "project")
    shutil.copytree(PROJECT_DIR / "platform", project / "platform", dirs_exist_ok=True)
    before = _files(project)
    monkeypatch.setattr(onboarding, "onboard", functools.partial(
        onboard, project_dir=project, costs_of=_committed_or_previewed_costs))
    argv = _readme_example()
    argv[argv.index("--scaffold") + 1] = str(tmp_path / "scaffold")

    assert main(argv) == 2

    captured = capsys.readouterr()
    lines = [line for line in captured.out.splitlines() if line.startswith("Monthly cost staging")]
    assert len(lines) == 2 and all("per month (+" in line and "BREAKS the " in line for line in lines)
    assert captured.err.count("\n") == 1
    assert "--min-tasks 1" in captured.err and "budget.approval.{amountEur,reason,approver}" in captured.err
    assert "Nothing was written" in captured.err and _files(project) == before
    assert not (tmp_path / "scaffold").exists()


def test_a_recorded_approval_lets_the_service_in_and_says_so():
    verdicts = [onboarding.CostVerdict("staging", 98.0, 112.0, 100.0, approved_eur=150.0),
                onboarding.CostVerdict("staging-euw1", 90.0, 95.0, 100.0)]
    assert onboarding.budget_refusal("x", verdicts) is None
    assert verdicts[0].line() == ("staging: €98.00 -> €112.00 per month (+14.00), budget €100.00: over the budget, "
                                  "within the recorded approval of €150.00")
    assert verdicts[1].line().endswith("within the budget, €5.00 left")
    refusal = onboarding.budget_refusal("x", [onboarding.CostVerdict("staging", 98.0, 160.0, 100.0, approved_eur=150.0)])
    assert refusal and "BREAKS the approved €150.00 by €10.00" in refusal and "amountEur at least 160.00" in refusal


def test_the_image_workflow_pushes_only_to_the_repositories_of_the_environments_that_run_it(tmp_path):
    template = _template(tmp_path / "template")
    for stacks, repositories in ((("staging",), "staging/ledger"), (("prod",), "prod/ledger"),
                                 (("staging", "prod"), "prod/ledger staging/ledger")):
        project = _copy_project(tmp_path / "-".join(stacks))
        scaffold = tmp_path / f"scaffold-{'-'.join(stacks)}"
        onboard(NewService(name="ledger", image="0.1.0", stacks=stacks, scaffold=scaffold), project, template,
                costs_of=_flat_costs)
        env = yaml.safe_load((scaffold / ".github" / "workflows" / "image.yml").read_text())["env"]
        assert env["ECR_REPOSITORIES"] == repositories
        first = stacks[0]
        assert env["STACK_FILES"].split() == [f"Pulumi.{first}.yaml", f"Pulumi.{first}-euw1.yaml"]


def test_the_settings_refuse_a_standby_on_another_image_than_its_primary(project):
    from foundation.settings import ConfigError, check_across_stacks

    path = project / "Pulumi.staging-euw1.yaml"
    path.write_text(path.read_text().replace('image: "1.4.0"', 'image: "1.5.0"'))
    shutil.copytree(PROJECT_DIR / "platform", project / "platform", dirs_exist_ok=True)
    settings = settings_from_config("staging-euw1", read_stack_file("staging-euw1", project).config,
                                    load_catalog(project / "platform" / "services.yaml"))
    with pytest.raises(ConfigError, match=r"services.overrides.auth.image = '1.5.0' differs from the primary "
                                          r"'staging' \('1.4.0'\)"):
        check_across_stacks(settings, project)


def test_interruptible_is_written_only_when_asked_and_reads_back_through_the_catalog_model():
    from foundation.settings.catalog import CatalogService

    asked = onboarding.catalog_entry(NewService(name="invoices", image="0.1.0", interruptible=True), 600)
    default = onboarding.catalog_entry(NewService(name="invoices", image="0.1.0"), 600)
    assert asked["interruptible"] is True and "interruptible" not in default
    assert CatalogService.model_validate(dict(asked)).interruptible
    assert not CatalogService.model_validate(dict(default)).interruptible
