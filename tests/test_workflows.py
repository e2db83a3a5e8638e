"""The GitHub workflows: they lint clean, run the README's commands, cover every stack, pin every
action by commit, grant the least permissions and serialise `pulumi up` per stack."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
LOCAL_ACTIONS = ROOT / ".github" / "actions"
TEMPLATE_WORKFLOWS = ROOT / "templates" / "service" / ".github" / "workflows"
STACKS = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))

ALL_WORKFLOW_FILES = sorted([*WORKFLOWS.glob("*.yml"), *TEMPLATE_WORKFLOWS.glob("*.yml")])
ACTION_FILES = sorted(LOCAL_ACTIONS.glob("*/action.yml"))
PIN = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)\s*(?P<comment>#.*)?$")


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the bare key `on` as the boolean True.
    return workflow.get("on", workflow.get(True))


def steps_running(job: dict[str, Any]) -> list[str]:
    return [step["run"].strip() for step in job.get("steps", []) if "run" in step]


def uses_of(job: dict[str, Any]) -> list[str]:
    return [step["uses"] for step in job.get("steps", []) if "uses" in step]


def assumes_aws_role(job: dict[str, Any]) -> bool:
    """Whether a job assumes an AWS role, directly or through a local composite action."""
    for ref in uses_of(job):
        if ref.startswith("aws-actions/configure-aws-credentials@"):
            return True
        if ref.startswith("./"):
            action = load(ROOT / ref / "action.yml")
            if any(s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")
                   for s in action["runs"]["steps"]):
                return True
    return False


def readme_first_commands() -> list[str]:
    """The commands of the README's first bash block, `&&` chains split into single commands."""
    block = re.search(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)
    commands = []
    for line in block.splitlines():
        line = line.split("#", 1)[0].strip()
        commands += [part.strip() for part in line.split("&&") if part.strip()]
    return commands


def test_actionlint_reports_nothing_on_every_workflow():
    bin_dir = Path(sys.executable).parent
    actionlint = shutil.which("actionlint") or str(bin_dir / "actionlint")
    assert Path(actionlint).exists(), "actionlint missing: pip install -r requirements-dev.txt"
    # shellcheck (requirements-dev.txt) on PATH makes actionlint check every `run:` script too.
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    assert shutil.which("shellcheck", path=env["PATH"]), "shellcheck missing: pip install -r requirements-dev.txt"
    result = subprocess.run([actionlint, "-no-color", *map(str, ALL_WORKFLOW_FILES)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_pull_request_checks_run_the_readme_install_and_test_commands():
    readme = readme_first_commands()
    install = next(c for c in readme if c.startswith("pip install"))
    # Step 2 of the README whole: lint, type-check and test.
    block = re.search(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)
    test = next(line.strip() for line in block.splitlines() if "pytest" in line and not line.startswith("#"))
    assert test.startswith("ruff check . && mypy")
    job = load(WORKFLOWS / "pull-request.yml")["jobs"]["tests"]
    assert steps_running(job) == [install, test]
    # The preview job installs the same way before it previews.
    assert install in steps_running(load(WORKFLOWS / "pull-request.yml")["jobs"]["offline-preview"])


def test_offline_preview_covers_every_stack_and_diffs_against_the_base_branch():
    job = load(WORKFLOWS / "pull-request.yml")["jobs"]["offline-preview"]
    assert job["env"]["STACKS"].split() == ["staging", "staging-euw1", "prod", "prod-euw1"]
    assert sorted(job["env"]["STACKS"].split()) == STACKS
    script = "\n".join(steps_running(job))
    assert 'python -m devkit preview --stack "$stack" --json "out/$stack.json" --markdown "out/$stack.md"' in script
    assert '--diff "base/out/$stack.json"' in script
    base_checkout = next(s for s in job["steps"] if s.get("with", {}).get("path") == "base")
    assert base_checkout["with"]["ref"] == "${{ github.event.pull_request.base.sha }}"
    sticky = next(s for s in job["steps"] if s.get("uses", "").startswith("marocchino/sticky-pull-request-comment@"))
    assert sticky["with"] == {"header": "offline-preview", "path": "out/comment.md"}
    last = job["steps"][-1]
    assert last["if"] == "steps.preview.outputs.failed != ''" and "exit 1" in last["run"]


def test_real_preview_runs_only_when_the_preview_role_is_configured():
    job = load(WORKFLOWS / "pull-request.yml")["jobs"]["pulumi-preview"]
    assert job["if"] == "vars.AWS_PREVIEW_ROLE_ARN != ''"
    assert sorted(job["strategy"]["matrix"]["stack"]) == STACKS
    step = next(s for s in job["steps"] if s.get("uses") == "./.github/actions/pulumi")
    assert step["with"]["command"] == "preview"
    action = load(LOCAL_ACTIONS / "pulumi" / "action.yml")
    pulumi_step = next(s for s in action["runs"]["steps"] if s.get("uses", "").startswith("pulumi/actions@"))
    assert pulumi_step["with"]["policyPacks"] == "policies"


def test_pulumi_up_rolls_out_primaries_before_standbys_one_run_per_stack_at_a_time():
    staging = load(WORKFLOWS / "deploy-staging.yml")
    production = load(WORKFLOWS / "deploy-production.yml")
    assert triggers(staging) == {"push": {"branches": ["main"]}}
    assert triggers(production) == {"release": {"types": ["published"]}}
    jobs = {**staging["jobs"], **production["jobs"]}
    assert sorted(jobs) == STACKS
    for stack, job in jobs.items():
        assert job["concurrency"] == {"group": f"pulumi-{stack}", "cancel-in-progress": False}
        step = next(s for s in job["steps"] if s.get("uses") == "./.github/actions/pulumi")
        assert step["with"]["command"] == "up" and step["with"]["stack"] == stack
    assert jobs["staging-euw1"]["needs"] == "staging" and jobs["prod-euw1"]["needs"] == "prod"
    assert "needs" not in jobs["staging"] and "needs" not in jobs["prod"]


def test_production_jobs_wait_for_the_production_environment_and_staging_jobs_do_not():
    production = load(WORKFLOWS / "deploy-production.yml")["jobs"]
    staging = load(WORKFLOWS / "deploy-staging.yml")["jobs"]
    assert {job["environment"] for job in production.values()} == {"production"}
    # A job in an environment gets `environment:<name>` as its OIDC subject instead of the branch
    # ref, which the staging deploy role (bootstrap) does not trust.
    assert not any("environment" in job for job in staging.values())


@pytest.mark.parametrize("path", [*ALL_WORKFLOW_FILES, *ACTION_FILES], ids=lambda p: str(p.relative_to(ROOT)))
def test_every_action_is_pinned_by_full_commit_sha_with_its_version(path):
    refs = [m for m in map(USES_LINE.match, path.read_text().splitlines()) if m]
    assert refs, f"{path} uses no action"
    for match in refs:
        ref = match["ref"]
        if ref.startswith("./"):
            assert (ROOT / ref / "action.yml").exists(), ref
            continue
        assert PIN.match(ref), f"{path.name}: {ref} is not pinned by a 40-hex commit SHA"
        assert re.fullmatch(r"# v\d+\.\d+\.\d+", match["comment"] or ""), f"{path.name}: {ref} lacks '# vX.Y.Z'"


@pytest.mark.parametrize("path", ALL_WORKFLOW_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_permissions_are_empty_at_the_top_and_least_per_job(path):
    workflow = load(path)
    assert workflow["permissions"] == {}
    for name, job in workflow["jobs"].items():
        permissions = job.get("permissions")
        assert isinstance(permissions, dict), f"{path.name}:{name} must state its permissions"
        assert permissions.get("id-token") == ("write" if assumes_aws_role(job) else None), \
            f"{path.name}:{name}: id-token: write belongs exactly to the jobs that assume an AWS role"
        assert set(permissions.values()) <= {"read", "write"}
        if "contents" in permissions and not name.startswith("bump"):
            assert permissions["contents"] == "read", f"{path.name}:{name} must not write the repository"
