"""Lifecycle: what prod refuses to delete, final snapshot names, engine versions, and deploys that refresh."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from components.data.database import snapshot_name
from devkit.run import StackPreview
from foundation.lifecycle import PROTECTED_TYPES

ROOT = Path(__file__).resolve().parent.parent
STATEFUL = PROTECTED_TYPES | {"aws:s3/bucket:Bucket"}


def test_prod_protects_its_data_keys_repositories_and_audit_bucket(prod: StackPreview,
                                                                    prod_standby: StackPreview) -> None:
    for preview in (prod, prod_standby):
        stateful = [r for r in preview.recorder.resources if r.type in PROTECTED_TYPES]
        assert stateful and [r.name for r in stateful if not r.protect] == []
    # Every type prod creates that holds data is protected somewhere.
    types = {r.type for r in prod.recorder.resources if r.protect}
    assert {"aws:rds/cluster:Cluster", "aws:rds/globalCluster:GlobalCluster", "aws:dynamodb/table:Table",
            "aws:kms/key:Key", "aws:secretsmanager/secret:Secret", "aws:ecr/repository:Repository"} <= types
    buckets = {r.name: r.protect for r in prod.recorder.of_type("aws:s3/bucket:Bucket")}
    assert buckets == {"microservices-foundation-audit-logs": True, "prod-eu-central-1-alb-logs": False}


def test_staging_protects_nothing(staging: StackPreview, staging_standby: StackPreview) -> None:
    for preview in (staging, staging_standby):
        assert [r.name for r in preview.recorder.resources if r.protect] == []


def test_the_preview_json_marks_protected_resources(prod: StackPreview) -> None:
    documents = [r.to_json() for r in prod.recorder.of_type("aws:kms/key:Key")]
    assert documents and all(d["protect"] is True for d in documents)


def test_final_snapshots_are_named_per_deployment(prod: StackPreview, prod_standby: StackPreview) -> None:
    for preview in (prod, prod_standby):
        groups = {r.urn: r.outputs["id"] for r in preview.recorder.of_type("aws:ec2/securityGroup:SecurityGroup")}
        for cluster in preview.recorder.of_type("aws:rds/cluster:Cluster"):
            name = cluster.inputs.get("finalSnapshotIdentifier")
            if cluster.inputs.get("skipFinalSnapshot"):
                continue
            identifier = cluster.inputs["clusterIdentifier"]
            # Not the fixed `<identifier>-final` a second destroy would collide with: it carries the id of
            # the database's own security group, created (and deleted) with the cluster.
            assert name != f"{identifier}-final" and name.startswith(f"{identifier}-final-sg-")
            assert name.removeprefix(f"{identifier}-final-") in groups.values()


def test_snapshot_names_of_two_deployments_differ_and_are_valid() -> None:
    first, second = snapshot_name("prod-persona", "sg-0aaaa"), snapshot_name("prod-persona", "sg-0bbbb")
    assert first == "prod-persona-final-sg-0aaaa" and first != second
    assert snapshot_name("prod-x", "-sg--1-") == "prod-x-final-sg-1"
    with pytest.raises(ValueError, match="letters, digits and hyphens"):
        snapshot_name("prod-x", "sg_1")


@pytest.mark.parametrize("stack", ["staging", "prod", "prod-euw1"])
def test_no_database_pins_a_minor_version_with_automatic_minor_upgrades(stack: str, request) -> None:
    preview = request.getfixturevalue({"staging": "staging", "prod": "prod", "prod-euw1": "prod_standby"}[stack])
    clusters = preview.recorder.of_type("aws:rds/cluster:Cluster")
    instances = preview.recorder.of_type("aws:rds/clusterInstance:ClusterInstance")
    assert clusters and instances
    for resource in [*clusters, *instances]:
        version = resource.inputs.get("engineVersion") or next(
            c.inputs["engineVersion"] for c in clusters)
        pinned_minor = "." in str(version)
        # Default of both the cluster and the instance argument is true (provider docs).
        automatic = resource.inputs.get("autoMinorVersionUpgrade", True)
        assert not (pinned_minor and automatic), f"{resource.name}: {version} with automatic minor upgrades"


def test_every_deploy_refreshes_first_and_a_pull_request_preview_reads_only_state() -> None:
    action = yaml.safe_load((ROOT / ".github/actions/pulumi/action.yml").read_text())
    step = next(s for s in action["runs"]["steps"] if s.get("uses", "").startswith("pulumi/actions@"))
    # `up` refreshes; `preview` (the preview role, which reads no resources) does not.
    assert step["with"].get("refresh") == "${{ inputs.command == 'up' }}"
    readme = (ROOT / "README.md").read_text()
    ups = [line for line in readme.splitlines() if "pulumi up" in line and line.lstrip().startswith("pulumi up")]
    assert ups and all("--refresh" in line for line in ups), ups


# ----- destroy order: a primary is refused while its standby holds resources -----

def _export(resources: list[dict]) -> str:
    import json
    return json.dumps({"version": 3, "deployment": {"resources": resources}})


def _runner(outputs: dict[str, tuple[int, str, str]]):
    import subprocess

    calls: list[list[str]] = []

    def run(command):
        calls.append(list(command))
        code, out, err = outputs[command[-1]]
        return subprocess.CompletedProcess(command, code, out, err)
    run.calls = calls  # type: ignore[attr-defined]  # the fake keeps the commands it was given on itself
    return run


def test_destroying_a_primary_whose_standby_is_deployed_is_refused_naming_the_standby() -> None:
    from devkit.destroy_check import destroy_check

    run = _runner({"acme/microservices-foundation/prod-euw1": (0, _export([
        {"type": "pulumi:pulumi:Stack"}, {"type": "pulumi:providers:aws"},
        {"type": "aws:rds/cluster:Cluster"}, {"type": "aws:ecs/cluster:Cluster"}]), "")})
    status, message = destroy_check("prod", runner=run)
    assert status == 2
    assert "'prod-euw1' (acme/microservices-foundation/prod-euw1) still holds 2 resources" in message
    assert run.calls == [["pulumi", "stack", "export", "--stack", "acme/microservices-foundation/prod-euw1"]]


def test_destroying_a_primary_is_allowed_once_its_standby_is_empty_or_gone() -> None:
    from devkit.destroy_check import destroy_check

    empty = _runner({"acme/microservices-foundation/prod-euw1": (0, _export([{"type": "pulumi:pulumi:Stack"}]), "")})
    status, message = destroy_check("prod", runner=empty)
    assert status == 0 and "pulumi state unprotect --all --yes -s prod" in message
    gone = _runner({"acme/microservices-foundation/staging-euw1": (
        255, "", "error: no stack named 'acme/microservices-foundation/staging-euw1' found")})
    status, message = destroy_check("staging", runner=gone)
    assert status == 0 and "unprotect" not in message


def test_an_unreadable_standby_state_counts_as_deployed() -> None:
    from devkit.destroy_check import destroy_check

    failing = _runner({"acme/microservices-foundation/prod-euw1": (1, "", "error: could not log in")})
    status, message = destroy_check("prod", runner=failing)
    assert status == 2 and "cannot tell whether it is destroyed" in message and "could not log in" in message


def test_a_standby_has_no_dependents_and_the_cli_exits_2_without_a_readable_state(monkeypatch, capsys) -> None:
    from devkit.__main__ import main
    from devkit.destroy_check import destroy_check

    assert destroy_check("prod-euw1", runner=_runner({}))[0] == 0
    monkeypatch.setenv("PATH", "/nonexistent")
    assert main(["destroy-check", "--stack", "prod"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: stack 'prod' is the primary of 'prod-euw1'") and "not on PATH" in err
