"""The running pack judges the bootstrap program as `pulumi preview --policy-pack ../policies
--policy-pack-config policy-config.json` would: the deploy roles' breadth fails the pack without the
config and is reported as acknowledged (advisory, with the reason) with it; nothing else is reported."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import pytest
import yaml

from devkit.mocks import run_program

BOOTSTRAP = Path(__file__).resolve().parents[2] / "bootstrap"
PROJECT = "microservices-foundation-bootstrap"
from tests.test_bootstrap import access  # noqa: E402 - the bootstrap program's own access module

DEPLOY_DOCUMENTS = {f"github-deploy-{family}-{part}" for family in ("staging", "prod")
                    for part in (*access.deploy_policy_groups(), "boundary")}


@pytest.fixture(scope="module")
def records() -> list[dict]:
    config = yaml.safe_load((BOOTSTRAP / "Pulumi.acme.yaml").read_text())["config"]
    config = {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
    sys.path.insert(0, str(BOOTSTRAP))
    try:
        recorder, _ = run_program(lambda: runpy.run_path(str(BOOTSTRAP / "__main__.py")) and None,
                                  project=PROJECT, stack="acme", region="eu-north-1", config=config)
    finally:
        sys.path.remove(str(BOOTSTRAP))
    return recorder.to_json()


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def test_without_the_config_only_the_deploy_roles_breadth_fails_the_pack(pack, records):
    diagnostics = pack.preview(records)
    assert {(d.policy_name, d.enforcement_level) for d in diagnostics} == {("no-wildcard-iam", "mandatory")}
    assert {_name(d.urn) for d in diagnostics} == DEPLOY_DOCUMENTS


def test_with_the_bootstrap_policy_config_the_breadth_is_acknowledged_with_its_reason(pack, records):
    config = json.loads((BOOTSTRAP / "policy-config.json").read_text())
    pack.configure(config=config)
    diagnostics = pack.preview(records)
    assert {(d.policy_name, d.enforcement_level) for d in diagnostics} == {("acknowledged-findings", "advisory")}
    assert {_name(d.urn) for d in diagnostics} == DEPLOY_DOCUMENTS
    reasons = {e["reason"] for e in config["no-wildcard-iam"]["exceptions"]}
    assert all(any(f"acknowledged: {reason}" in d.message for reason in reasons) for d in diagnostics)
