"""`python -m devkit preview` as a newcomer runs it: every stack, JSON shape, clean config errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from devkit.__main__ import root_cause

PROJECT_DIR = Path(__file__).resolve().parent.parent
STACKS = ["staging", "staging-euw1", "prod", "prod-euw1"]


def run_preview(*args: str, cwd: Path = PROJECT_DIR) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "devkit", "preview", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("stack", STACKS)
def test_preview_succeeds_for_every_stack_and_writes_every_resource(stack, tmp_path):
    out = tmp_path / "not" / "yet" / "resources.json"  # folders that do not exist yet are created
    result = run_preview("--stack", stack, "--json", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Stack {stack}: ")
    assert "microservices:platform:RegionalPlatform" in result.stdout
    document = json.loads(out.read_text())
    assert document["stack"] == stack
    resources = document["resources"]
    assert {"urn", "type", "name", "parent", "providerRegion", "inputs", "dependencies",
            "propertyDependencies"} <= set(resources[0])
    endpoints = [r for r in resources if r["type"] == "aws:ec2/vpcEndpoint:VpcEndpoint"]
    assert endpoints and all(r["providerRegion"] == document["region"] for r in endpoints)
    # every endpoint is visible in the text view too
    assert f"{len(endpoints):>5}  aws:ec2/vpcEndpoint:VpcEndpoint" in result.stdout
    assert "vpcId: vpc-" in result.stdout
    # the text and the JSON state the same count
    assert f"Resources: {len(resources)} (" in result.stdout and document["counts"]["total"] == len(resources)
    assert f"Wrote {len(resources)} resources to {out}" in result.stdout


def test_unknown_stack_names_the_stacks_that_exist():
    result = run_preview("--stack", "qa")
    assert result.returncode == 2
    assert "no stack 'qa'" in result.stderr and "prod-euw1" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_misspelled_key_stops_the_preview_with_one_clear_message(tmp_path):
    for item in ["Pulumi.yaml", *[f"Pulumi.{s}.yaml" for s in STACKS]]:
        shutil.copy(PROJECT_DIR / item, tmp_path / item)
    for folder in ["platform", "foundation", "components", "devkit", "policies"]:
        shutil.copytree(PROJECT_DIR / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    stack_file = tmp_path / "Pulumi.staging.yaml"
    document = yaml.safe_load(stack_file.read_text())
    document["config"]["microservices-foundation:budgt"] = {"monthlyEur": 10}
    stack_file.write_text(yaml.safe_dump(document))

    result = run_preview("--stack", "staging", cwd=tmp_path)
    assert result.returncode == 2
    assert "unknown key microservices-foundation:budgt" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_a_program_error_is_one_clear_message_not_a_traceback(tmp_path):
    for item in ["Pulumi.yaml", *[f"Pulumi.{s}.yaml" for s in STACKS]]:
        shutil.copy(PROJECT_DIR / item, tmp_path / item)
    for folder in ["platform", "foundation", "components", "policies", "devkit"]:
        shutil.copytree(PROJECT_DIR / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    # A failure inside an apply, where the SDK wraps and re-raises it (its cause chain can be a cycle).
    stack_module = tmp_path / "foundation" / "stack.py"
    stack_module.write_text(stack_module.read_text() + textwrap.dedent("""
        _build = build

        def build(settings):
            outputs = _build(settings)
            outputs["vpcId"] = outputs["vpcId"].apply(lambda _: {}["injected-missing-key"])
            return outputs
        """))

    result = run_preview("--stack", "staging", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: the program failed: KeyError: 'injected-missing-key'")
    assert "Traceback" not in result.stderr and "--debug" in result.stderr


def test_root_cause_follows_the_chain_and_stops_at_a_cycle():
    outer, inner = ValueError("While processing input"), KeyError("missing")
    outer.__cause__, inner.__cause__ = inner, outer
    assert root_cause(outer) is inner


def test_as_a_first_preview_computed_outputs_are_unknown_and_the_pack_still_passes(tmp_path):
    out = tmp_path / "resources.json"
    result = run_preview("--stack", "prod", "--unknowns", "--json", str(out))
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text())
    endpoints = [r for r in document["resources"] if r["type"] == "aws:ec2/vpcEndpoint:VpcEndpoint"]
    vpc = next(r for r in document["resources"] if r["type"] == "aws:ec2/vpc:Vpc")
    # ids are unknown, so endpoints reach their VPC only through property dependencies, as in a real preview
    assert {e["inputs"]["vpcId"] for e in endpoints} == {"04da6b54-80e4-46f7-96ec-b56ff0331ba9"}
    assert all(e["propertyDependencies"]["vpcId"] == [vpc["urn"]] for e in endpoints)
    assert "vpcId: [unknown]" in result.stdout
    # prod's only verdict: its overrun of the seeds' budget is within the recorded approval
    assert "Policy verdicts: 1 advisory (passed)." in result.stdout and "stack-budget-approved-overrun" in result.stdout
    assert "checks wait for values unknown during preview" in result.stdout


def test_a_bad_policy_config_stops_the_preview_before_the_program_runs(tmp_path, capsys):
    from devkit.__main__ import main

    config = tmp_path / "policy.json"
    config.write_text('{"no-wildcard-iam": "strict"}')
    assert main(["preview", "--stack", "staging", "--policy-config", str(config)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == (
        f"error: {config}: \"no-wildcard-iam\": enforcement level \"strict\" is not allowed; allowed: advisory, "
        "mandatory, remediate, disabled\n")


def test_an_output_path_that_is_a_folder_exits_2_before_the_program_runs(tmp_path, capsys):
    from devkit.__main__ import main

    assert main(["preview", "--stack", "staging", "--markdown", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == f"error: --markdown {tmp_path}: is a folder; give a file name\n"
