"""The offline preview works in any AWS account: the mocks answer with the account the stack allows."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from devkit.render import json_text, preview_document
from devkit.run import preview_stack

PROJECT_DIR = Path(__file__).resolve().parent.parent
SEED_ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"


@pytest.fixture(scope="module")
def other_account_project(tmp_path_factory) -> Path:
    """The project's config files with every stack moved to another account (code is read from the repo)."""
    project = tmp_path_factory.mktemp("other-account")
    shutil.copytree(PROJECT_DIR / "platform", project / "platform")
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", project / "Pulumi.yaml")
    for stack_file in PROJECT_DIR.glob("Pulumi.*.yaml"):
        text = stack_file.read_text()
        assert SEED_ACCOUNT in text, f"{stack_file.name} no longer names the seed account"
        (project / stack_file.name).write_text(text.replace(SEED_ACCOUNT, OTHER_ACCOUNT))
    return project


def _account_ids_in(preview) -> set[str]:
    arns = [r.outputs.get("arn") for r in preview.recorder.resources if isinstance(r.outputs.get("arn"), str)]
    return {arn.split(":")[4] for arn in arns if arn.count(":") >= 5 and arn.split(":")[4]}


@pytest.fixture(scope="module")
def other_account_previews(other_account_project) -> dict:
    previews = {}
    for primary, standby in (("staging", "staging-euw1"), ("prod", "prod-euw1")):
        previews[primary] = preview_stack(primary, project_dir=other_account_project)
        previews[standby] = preview_stack(standby, primary=previews[primary], project_dir=other_account_project)
    return previews


@pytest.mark.parametrize("stack", ["staging", "staging-euw1", "prod", "prod-euw1"])
def test_every_stack_previews_in_another_account_without_the_seed_account(other_account_previews, stack):
    preview = other_account_previews[stack]
    assert preview.settings.account_id == OTHER_ACCOUNT
    assert _account_ids_in(preview) == {OTHER_ACCOUNT}
    # Every ARN, URL and document of the run, inputs and outputs alike (what `--json` writes).
    document = json_text(preview_document(preview))
    assert SEED_ACCOUNT not in document, [
        line.strip() for line in document.splitlines() if SEED_ACCOUNT in line][:5]


@pytest.mark.parametrize("stack", ["staging-euw1", "prod-euw1"])
def test_standby_repository_urls_carry_the_configured_account(other_account_previews, stack):
    urls = other_account_previews[stack].outputs["repositoryUrls"].values()
    assert urls and all(url.startswith(f"{OTHER_ACCOUNT}.dkr.ecr.eu-west-1.") for url in urls)
