"""README claims that a test can hold to the program: each was false once (issue 17's newcomer run)."""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path

import pytest
import yaml

from devkit.costs import stack_estimate
from devkit.diff import diff_documents
from devkit.render import preview_document, render_text
from devkit.run import StackPreview, preview_stack
from foundation.settings import ConfigError, read_stack_file
from foundation.settings.catalog import PROJECT_DIR

NS = "microservices-foundation"
README = (PROJECT_DIR / "README.md").read_text()
DRILL = (PROJECT_DIR / "docs" / "runbooks" / "failover-drill.md").read_text()


def _project(tmp_path: Path) -> Path:
    for stack_file in PROJECT_DIR.glob("Pulumi*.yaml"):
        shutil.copy(stack_file, tmp_path / stack_file.name)
    shutil.copytree(PROJECT_DIR / "platform", tmp_path / "platform")
    return tmp_path


def _edit(project: Path, stack: str, key: str, value: object) -> None:
    path = project / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text())
    document["config"][f"{NS}:{key}"] = value
    path.write_text(yaml.safe_dump(document))


def test_the_preview_prints_the_strangler_fig_block_it_promises(staging: StackPreview) -> None:
    assert "Lambda functions behind its ALB" in README and staging.settings.legacy.default_function
    text = render_text(staging)
    block = text.split("Legacy (strangler fig):\n", 1)[1].split("\n\n", 1)[0]
    assert "default: forward to legacy Lambda target group staging-legacy-monolith-api" in block
    assert "invokes arn:aws:lambda:eu-central-1:" in block


def test_no_text_says_the_failover_aliases_evaluate_target_health(prod: StackPreview,
                                                                   prod_standby: StackPreview) -> None:
    records = [r for p in (prod, prod_standby) for r in p.recorder.of_type("aws:route53/record:Record")
               if r.inputs.get("failoverRoutingPolicies")]
    assert records and all(a["evaluateTargetHealth"] is False for r in records for a in r.inputs["aliases"])
    for text in (README, DRILL):
        assert not re.search(r"(?<!neither )alias evaluates target health|\+ evaluate target health", text)


def test_the_failover_drill_is_sent_only_to_stacks_with_dns_failover() -> None:
    staging_has_dns = f"{NS}:dns" in read_stack_file("staging").config
    for text in (README, DRILL):
        assert ("Run it in staging first" in text or "Run it in staging, then" in text) == staging_has_dns


def test_the_diff_leaves_out_what_ignore_changes_hides_from_a_real_preview(staging: StackPreview) -> None:
    head = preview_document(staging)
    base = copy.deepcopy(head)
    services = [r for r in base["resources"] if r["type"] == "aws:ecs/service:Service"]
    assert services and all("desiredCount" in r["ignoreChanges"] for r in services)
    for record in services:
        record["inputs"]["desiredCount"] = 7  # scaled by Application Auto Scaling since the last deploy
        record["inputs"]["loadBalancers"][0]["targetGroupArn"] = "arn:aws:elasticloadbalancing:swapped"
    assert diff_documents(base, head).changes == ()
    services[0]["inputs"]["enableEcsManagedTags"] = False  # not ignored: still shown
    (change,) = diff_documents(base, head).changes
    assert [p.path for p in change.properties] == ["enableEcsManagedTags"]


def test_secure_parts_of_alerts_preview_with_stand_ins(tmp_path: Path) -> None:
    project = _project(tmp_path)
    _edit(project, "staging", "alerts", {"emails": ["oncall@example.com", {"secure": "v1:abc"}],
                                         "httpsEndpoint": {"secure": "v1:def"}})
    preview = preview_stack("staging", project_dir=project)
    endpoints = {s.inputs["endpoint"] for s in preview.recorder.of_type("aws:sns/topicSubscription:TopicSubscription")}
    assert {"oncall@example.com", "secret-alert-1@offline-preview.invalid",
            "https://offline-preview.invalid/secret"} <= endpoints
    assert f"{NS}:alerts" in preview.settings.secret_keys


def test_a_secure_part_without_a_stand_in_is_one_message_naming_the_key(tmp_path: Path) -> None:
    project = _project(tmp_path)
    _edit(project, "staging", "network", {"vpcCidr": {"secure": "v1:abc"}, "azCount": 2})
    with pytest.raises(ConfigError, match=r"Pulumi.staging.yaml: microservices-foundation:network.vpcCidr is a "
                                          r"secure value .* keys that may be secret: alerts.httpsEndpoint"):
        read_stack_file("staging", project)


def test_the_tls_rehearsal_in_staging_euw1_needs_the_approval_the_readme_names(
        tmp_path: Path, staging: StackPreview) -> None:
    project = _project(tmp_path)
    _edit(project, "staging-euw1", "serviceConnect", {"tls": True})
    rehearsal = preview_stack("staging-euw1", primary=staging, project_dir=project)
    assert stack_estimate(rehearsal).total_eur > rehearsal.settings.config.budget.monthly_eur
    row = next(line for line in README.splitlines() if line.startswith("| Service Connect TLS with the proxy"))
    assert "staging-euw1" in row and "budget.approval" in row
