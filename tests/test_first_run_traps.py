"""First-run traps: what a fresh account refuses on the first `pulumi up`, and the switch for each.

* Cost allocation tags can be activated only once their keys have appeared in billing data (up to 24 h
  after the first tagged resource) and only from an organization's management account or a standalone
  account: activation is off until `costControls.activateTags` is switched on.
* An account holds one external-access analyzer (type ACCOUNT) per region: `audit.existingAnalyzerRegions`
  leaves out the regions that already have one.
* Many accounts already have an AWS services anomaly monitor: `costControls.existingMonitorArn` makes
  the subscriptions use it instead of creating a second one.
* A pinned minor engine version with automatic minor upgrades: see tests/test_lifecycle.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from devkit.run import StackPreview, preview_stack
from foundation.settings import ConfigError, load_stack
from foundation.settings.catalog import PROJECT_DIR

NS = "microservices-foundation"
MONITOR = "arn:aws:ce::123456789012:anomalymonitor/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
README = (PROJECT_DIR / "README.md").read_text()


def _project(tmp_path: Path, **prod_keys: dict) -> Path:
    for stack_file in PROJECT_DIR.glob("Pulumi*.yaml"):
        shutil.copy(stack_file, tmp_path / stack_file.name)
    shutil.copytree(PROJECT_DIR / "platform", tmp_path / "platform")
    path = tmp_path / "Pulumi.prod.yaml"
    document = yaml.safe_load(path.read_text())
    for key, value in prod_keys.items():
        document["config"][f"{NS}:{key}"] = {**document["config"].get(f"{NS}:{key}", {}), **value}
    path.write_text(yaml.safe_dump(document))
    return tmp_path


def test_a_first_deploy_activates_no_cost_allocation_tag_and_creates_its_own_monitor(prod: StackPreview) -> None:
    assert prod.settings.config.cost_controls.owner
    assert prod.recorder.of_type("aws:costexplorer/costAllocationTag:CostAllocationTag") == []
    monitors = prod.recorder.of_type("aws:costexplorer/anomalyMonitor:AnomalyMonitor")
    assert [m.inputs["monitorType"] for m in monitors] == ["DIMENSIONAL"]
    regions = sorted(a.inputs["region"] for a in prod.recorder.of_type("aws:accessanalyzer/analyzer:Analyzer"))
    assert regions == ["eu-central-1", "eu-west-1"]


@pytest.fixture(scope="module")
def adopted(tmp_path_factory: pytest.TempPathFactory) -> StackPreview:
    project = _project(tmp_path_factory.mktemp("traps"),
                       costControls={"activateTags": True, "existingMonitorArn": MONITOR},
                       audit={"existingAnalyzerRegions": ["eu-central-1"]})
    return preview_stack("prod", project_dir=project)


def test_the_second_step_activates_the_tags(adopted: StackPreview) -> None:
    tags = adopted.recorder.of_type("aws:costexplorer/costAllocationTag:CostAllocationTag")
    assert sorted(t.inputs["tagKey"] for t in tags) == ["cost-center", "environment", "owner", "service"]
    assert all(t.inputs["status"] == "Active" for t in tags)


def test_an_existing_services_monitor_is_used_and_none_is_created(adopted: StackPreview) -> None:
    assert adopted.recorder.of_type("aws:costexplorer/anomalyMonitor:AnomalyMonitor") == []
    subscriptions = adopted.recorder.of_type("aws:costexplorer/anomalySubscription:AnomalySubscription")
    assert subscriptions and all(s.inputs["monitorArnLists"] == [MONITOR] for s in subscriptions)


def test_a_region_with_an_existing_analyzer_gets_none(adopted: StackPreview) -> None:
    regions = [a.inputs["region"] for a in adopted.recorder.of_type("aws:accessanalyzer/analyzer:Analyzer")]
    assert regions == ["eu-west-1"]


@pytest.mark.parametrize("key, value, message", [
    ("costControls", {"existingMonitorArn": "arn:aws:ce::1:anomalymonitor/x"}, "costControls.existingMonitorArn"),
    ("audit", {"existingAnalyzerRegions": ["us-east-1"]}, "audit.existingAnalyzerRegions"),
])
def test_a_malformed_switch_names_its_key(tmp_path: Path, key: str, value: dict, message: str) -> None:
    project = _project(tmp_path, **{key: value})
    with pytest.raises(ConfigError, match=message):
        load_stack("prod", project)


@pytest.mark.parametrize("switch", ["costControls.activateTags", "costControls.existingMonitorArn",
                                    "audit.existingAnalyzerRegions", "auto_minor_version_upgrade"])
def test_the_readme_trap_table_explains_each_switch(switch: str) -> None:
    table = README.split("## Deploy-time traps", 1)[1].split("Findings of common IaC scanners", 1)[0]
    assert switch in table
