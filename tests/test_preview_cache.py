"""A standby preview reuses its primary's outputs while nothing the primary's program reads has changed."""

from __future__ import annotations

import shutil

import pytest

import devkit.run as run
from foundation.settings import PROJECT_DIR


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_the_inputs_digest_changes_with_the_catalog_and_the_code_but_not_with_unrelated_files(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "platform", "foundation"):
        source = PROJECT_DIR / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, project / name)
    before = run.inputs_digest("staging", project)
    (project / "README.md").write_text("notes")
    assert run.inputs_digest("staging", project) == before
    catalog = project / "platform" / "services.yaml"
    catalog.write_text(catalog.read_text() + "\n# a comment is a change too\n")
    after_catalog = run.inputs_digest("staging", project)
    assert after_catalog != before
    (project / "foundation" / "stack.py").write_text("# changed\n")
    assert run.inputs_digest("staging", project) != after_catalog
    assert run.inputs_digest("prod", project) != run.inputs_digest("staging", project)


def test_stored_outputs_are_read_back_under_the_same_digest_only(cache_home, monkeypatch):
    run.store_outputs("staging", {"albDnsName": "x.elb.amazonaws.com", "services": {"auth": {"name": "auth"}}})
    assert run.cached_outputs("staging") == {"albDnsName": "x.elb.amazonaws.com", "services": {"auth": {"name": "auth"}}}
    monkeypatch.setattr(run, "inputs_digest", lambda stack, project_dir=PROJECT_DIR: "another-digest")
    assert run.cached_outputs("staging") is None


def test_a_standby_preview_with_cached_primary_outputs_does_not_run_the_primary(cache_home, monkeypatch, staging):
    run.store_outputs("staging", staging.outputs)
    real_preview = run.preview_stack

    def only_the_standby(stack, primary=None, unknowns=False):
        if stack == "staging":
            raise AssertionError("the primary's program ran although its outputs were cached")
        return real_preview(stack, primary, unknowns)

    monkeypatch.setattr(run, "preview_stack", only_the_standby)
    standby = only_the_standby("staging-euw1")
    assert standby.primary is None
    assert standby.primary_outputs_from == "the cached preview of 'staging' (its inputs are unchanged)"
    reference = standby.recorder.one("pulumi:pulumi:StackReference")
    assert reference.outputs["outputs"] == staging.outputs
