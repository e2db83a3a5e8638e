"""The offline preview works in any AWS account: the mocks answer with the account the stack allows."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

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


# Only the staging pair runs here (a standby needs its primary's outputs, so two runs): prod's pair
# exercises the same account plumbing at twice the resource count and would double the runtime.
def test_staging_and_its_standby_preview_in_another_account(other_account_project):
    primary = preview_stack("staging", project_dir=other_account_project)
    standby = preview_stack("staging-euw1", primary=primary, project_dir=other_account_project)
    for preview in (primary, standby):
        assert preview.settings.account_id == OTHER_ACCOUNT
        assert _account_ids_in(preview) == {OTHER_ACCOUNT}
    urls = standby.outputs["repositoryUrls"].values()
    assert urls and all(url.startswith(f"{OTHER_ACCOUNT}.dkr.ecr.eu-west-1.") for url in urls)
