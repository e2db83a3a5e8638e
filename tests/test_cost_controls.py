"""Account-wide cost controls: args, the payloads AWS receives, and one owning stack per account."""

from __future__ import annotations

import shutil
from pathlib import Path

import botocore.session
import pytest
import yaml
from botocore.validate import ParamValidator

from components.cost.cost_controls import CostControlsArgs, anomaly_threshold
from foundation.settings import (
    ConfigError,
    check_across_stacks,
    list_stacks,
    load_catalog,
    read_stack_file,
    settings_from_config,
)
from foundation.settings.catalog import PROJECT_DIR

CE = botocore.session.get_session().get_service_model("ce")
NS = "microservices-foundation"


def test_the_anomaly_subscription_threshold_is_a_valid_cost_explorer_expression():
    expression = anomaly_threshold(20)
    request = {"AnomalySubscription": {
        "MonitorArnList": ["arn:aws:ce::123456789012:anomalymonitor/abc"], "Frequency": "DAILY",
        "SubscriptionName": "s", "Subscribers": [{"Type": "EMAIL", "Address": "oncall@example.com"}],
        "ThresholdExpression": {"Dimensions": {"Key": expression["dimension"]["key"],
                                               "MatchOptions": expression["dimension"]["match_options"],
                                               "Values": expression["dimension"]["values"]}}}}
    report = ParamValidator().validate(request, CE.operation_model("CreateAnomalySubscription").input_shape)
    assert not report.has_errors(), report.generate_report()
    assert expression["dimension"]["key"] in CE.shape_for("Dimension").enum
    assert expression["dimension"]["match_options"][0] in CE.shape_for("MatchOption").enum


@pytest.mark.parametrize("kwargs, message", [
    ({"tag_keys": ()}, "tag keys"),
    ({"tag_keys": ("bad,key",)}, "tag keys"),
    ({"alert_emails": ()}, "needs alert emails or an alert topic"),
    ({"anomaly_threshold_usd": 0}, "positive"),
])
def test_args_aws_would_reject_are_refused(kwargs, message):
    base = {"name": "p", "tag_keys": ("environment",), "alert_emails": ("oncall@example.com",)}
    with pytest.raises(ValueError, match=message):
        CostControlsArgs(**{**base, **kwargs})


def _copy_project(tmp_path: Path) -> Path:
    for name in ["Pulumi.yaml", *[f"Pulumi.{s}.yaml" for s in list_stacks()]]:
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    shutil.copytree(PROJECT_DIR / "platform", tmp_path / "platform")
    return tmp_path


def _check(project: Path, stack: str) -> None:
    settings = settings_from_config(stack, read_stack_file(stack, project).config,
                                    load_catalog(project / "platform" / "services.yaml"))
    check_across_stacks(settings, project)


def test_the_committed_stacks_have_exactly_one_cost_controls_owner(tmp_path):
    _check(_copy_project(tmp_path), "staging")


def test_a_second_owner_in_the_same_account_is_refused(tmp_path):
    project = _copy_project(tmp_path)
    path = project / "Pulumi.staging.yaml"
    document = yaml.safe_load(path.read_text())
    document["config"][f"{NS}:costControls"] = {"owner": True}
    document["config"][f"{NS}:budget"]["alertEmails"] = ["staging@example.com"]
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(ConfigError, match=r"costControls.owner: .* exactly one owning stack .*'prod', 'staging'"):
        _check(project, "staging")
