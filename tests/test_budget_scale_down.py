"""The staging budget's scale-down: the Lambda handler against botocore's Application Auto Scaling model
(Stubber), the component under the mocks, its IAM documents judged by the pack, its Lambda payloads
against botocore's Lambda model, and the settings rule that keeps it out of prod."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import botocore.session
import pytest
from botocore.stub import Stubber
from botocore.validate import ParamValidator

from components.cost import budget_scale_down_handler as handler_module
from components.cost.budget_scale_down import (
    BudgetScaleDown,
    BudgetScaleDownArgs,
    ScaledService,
    boundary_statements,
    role_policy,
)
from components.cost.stack_budget import budget_notifications
from components.regional_platform.platform_iam import kms_key_policy, permissions_boundary
from devkit.mocks import ACCOUNT_ID, run_program
from foundation.settings import ConfigError, load_catalog, read_stack_file, settings_from_config
from policies.iam_documents import judge_policy_document
from tests.ecs_api import model_violations

REGION = "eu-central-1"
NAME = "staging-budget-scale-down"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:{NAME}"
CLUSTER = "staging-eu-central-1-cluster-1a2b3c4"
NS = "microservices-foundation"


def budgets_event(topic: str = TOPIC) -> dict:
    """An SNS delivery of an AWS Budgets ACTUAL 100 % notification, as Lambda receives it."""
    message = ("AWS Budget Notification December 01, 2026\nAWS Account 123456789012\n\nDear AWS Customer,\n\n"
               "You requested that we alert you when the ACTUAL Cost associated with your "
               "microservices-foundation-staging budget is greater than $116.00 for the current month. The ACTUAL "
               "Cost associated with this budget is $116.52.\n\nBudget Name: microservices-foundation-staging\n"
               "Budget Type: Cost\nBudgeted Amount: $116.00\nAlert Type: ACTUAL\nAlert Threshold: > $116.00\n"
               "ACTUAL Amount: $116.52\n")
    return {"Records": [{
        "EventSource": "aws:sns", "EventVersion": "1.0",
        "EventSubscriptionArn": f"{topic}:0b8c6f2e-4d1a-4f7e-9a51-3c2d1e0f9a8b",
        "Sns": {"Type": "Notification", "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e", "TopicArn": topic,
                "Subject": "AWS Budgets: microservices-foundation-staging has exceeded your alert threshold",
                "Message": message, "Timestamp": "2026-12-01T09:12:44.000Z", "SignatureVersion": "1",
                "Signature": "EXAMPLE", "SigningCertUrl": "https://sns.eu-central-1.amazonaws.com/cert.pem",
                "UnsubscribeUrl": "https://sns.eu-central-1.amazonaws.com/?Action=Unsubscribe",
                "MessageAttributes": {}}}]}


def target(service: str, low: int, high: int) -> dict:
    return {"ServiceNamespace": "ecs", "ResourceId": f"service/{CLUSTER}/{service}",
            "ScalableDimension": "ecs:service:DesiredCount", "MinCapacity": low, "MaxCapacity": high,
            "RoleARN": f"arn:aws:iam::{ACCOUNT_ID}:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/"
                       "AWSServiceRoleForApplicationAutoScaling_ECSService",
            "CreationTime": "2026-11-01T10:00:00Z",
            "ScalableTargetARN": f"arn:aws:application-autoscaling:{REGION}:{ACCOUNT_ID}:scalable-target/0ec{service}"}


@pytest.fixture
def autoscaling():
    client = botocore.session.get_session().create_client(
        "application-autoscaling", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def lambda_env(monkeypatch):
    monkeypatch.setenv("TOPIC_ARN", TOPIC)
    monkeypatch.setenv("CLUSTER_NAME", CLUSTER)
    monkeypatch.setenv("SERVICE_MINIMUMS", json.dumps({"auth": 1, "persona": 1}))


def describe_request() -> dict:
    return {"ServiceNamespace": "ecs", "ScalableDimension": "ecs:service:DesiredCount",
            "ResourceIds": [f"service/{CLUSTER}/auth", f"service/{CLUSTER}/persona"]}


def test_a_budget_breach_sets_each_uncapped_services_maximum_to_its_minimum(autoscaling, lambda_env):
    client, stubber = autoscaling
    stubber.add_response("describe_scalable_targets",
                         {"ScalableTargets": [target("auth", 1, 1), target("persona", 1, 2)]}, describe_request())
    stubber.add_response("register_scalable_target", {}, {
        "ServiceNamespace": "ecs", "ScalableDimension": "ecs:service:DesiredCount",
        "ResourceId": f"service/{CLUSTER}/persona", "MinCapacity": 1, "MaxCapacity": 1})

    result = handler_module.handler(budgets_event(), None, client=client)

    assert result == {"capped": {"persona": {"maxCapacityBefore": 2, "maxCapacity": 1}},
                      "alreadyCapped": ["auth"], "missing": []}


def test_a_missing_scalable_target_fails_the_invocation_after_capping_the_others(autoscaling, lambda_env):
    client, stubber = autoscaling
    stubber.add_response("describe_scalable_targets", {"ScalableTargets": [target("auth", 1, 3)]},
                         describe_request())
    stubber.add_response("register_scalable_target", {}, {
        "ServiceNamespace": "ecs", "ScalableDimension": "ecs:service:DesiredCount",
        "ResourceId": f"service/{CLUSTER}/auth", "MinCapacity": 1, "MaxCapacity": 1})

    with pytest.raises(RuntimeError, match=r"no scalable target for \['persona'\]"):
        handler_module.handler(budgets_event(), None, client=client)


def test_a_notification_from_another_topic_changes_nothing(autoscaling, lambda_env):
    client, _ = autoscaling  # no stubbed responses: any API call would fail the test
    other = f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:staging-alerts"
    assert handler_module.handler(budgets_event(other), None, client=client) == {"ignored": True}


@pytest.mark.parametrize("raw", ["{}", "[]", '{"auth": -1}', '{"auth": "1"}'])
def test_a_malformed_service_list_is_refused(raw):
    with pytest.raises(ValueError, match="SERVICE_MINIMUMS"):
        handler_module.read_minimums(raw)


def test_the_breach_notification_goes_to_the_scale_down_topic_and_the_others_to_the_alert_topic():
    notifications = budget_notifications(["ops@example.com"], "alerts-arn", breach_topic_arn=TOPIC)
    topics = {(n["notification_type"], n["threshold"]): n["subscriber_sns_topic_arns"] for n in notifications}
    assert topics == {("FORECASTED", 80.0): ["alerts-arn"], ("ACTUAL", 95.0): ["alerts-arn"],
                      ("ACTUAL", 100.0): [TOPIC]}
    assert all(n["subscriber_email_addresses"] == ["ops@example.com"] for n in notifications)


# --- the component under the mocks -------------------------------------------------------------------

SERVICE_ARNS = {name: f"arn:aws:ecs:{REGION}:{ACCOUNT_ID}:service/{CLUSTER}/staging-{name}-x1"
                for name in ("auth", "persona")}
TARGET_ARNS = {name: f"arn:aws:application-autoscaling:{REGION}:{ACCOUNT_ID}:scalable-target/0ec{name}"
               for name in ("auth", "persona")}
BOUNDARY = f"arn:aws:iam::{ACCOUNT_ID}:policy/staging-boundary"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/platform"
ALERTS = f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:staging-alerts"


@pytest.fixture(scope="module")
def recorded():
    def program():
        BudgetScaleDown(NAME, BudgetScaleDownArgs(
            name=NAME, account_id=ACCOUNT_ID, cluster_name=CLUSTER,
            services={name: ScaledService(f"staging-{name}-x1", SERVICE_ARNS[name], TARGET_ARNS[name], 1)
                      for name in ("auth", "persona")},
            kms_key_arn=KEY, permissions_boundary_arn=BOUNDARY, dead_letter_topic_arn=ALERTS, log_retention_days=14))

    recorder, _ = run_program(program, project="microservices-foundation", stack="staging", region=REGION)
    return recorder


def test_the_function_is_a_python_arm64_lambda_shipping_the_handler_module(recorded):
    function = recorded.one("aws:lambda/function:Function").inputs
    assert (function["runtime"], function["architectures"], function["handler"]) == (
        "python3.13", ["arm64"], "budget_scale_down_handler.handler")
    variables = function["environment"]["variables"]
    assert json.loads(variables["SERVICE_MINIMUMS"]) == {"staging-auth-x1": 1, "staging-persona-x1": 1}
    assert variables["CLUSTER_NAME"] == CLUSTER and variables["TOPIC_ARN"] == TOPIC
    assert function["loggingConfig"]["logGroup"] == f"/aws/lambda/{NAME}"


def test_the_topic_is_encrypted_with_the_platform_key_and_invokes_only_the_function(recorded):
    assert recorded.one("aws:sns/topic:Topic").inputs["kmsMasterKeyId"] == KEY
    subscription = recorded.one("aws:sns/topicSubscription:TopicSubscription").inputs
    function = recorded.one("aws:lambda/function:Function")
    assert (subscription["protocol"], subscription["topic"], subscription["endpoint"]) == (
        "lambda", TOPIC, function.outputs["arn"])
    permission = recorded.one("aws:lambda/permission:Permission").inputs
    assert (permission["principal"], permission["sourceArn"], permission["function"]) == (
        "sns.amazonaws.com", TOPIC, NAME)


def test_a_failed_invocation_goes_to_the_alert_topic_and_every_invocation_is_traced(recorded):
    function = recorded.one("aws:lambda/function:Function").inputs
    assert function["deadLetterConfig"] == {"targetArn": ALERTS}
    assert function["tracingConfig"] == {"mode": "Active"}
    policy = json.loads(recorded.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["DeadLetterToAlertTopic"]["Resource"] == ALERTS
    assert statements["EncryptDeadLettersThroughSns"]["Resource"] == KEY
    assert statements["WriteTraces"]["Action"] == ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]


def test_the_log_group_exists_with_retention_and_the_platform_key(recorded):
    group = recorded.one("aws:cloudwatch/logGroup:LogGroup").inputs
    assert (group["name"], group["retentionInDays"], group["kmsKeyId"]) == (f"/aws/lambda/{NAME}", 14, KEY)


def test_the_role_carries_the_boundary_and_its_documents_pass_the_iam_judge(recorded):
    role = recorded.one("aws:iam/role:Role").inputs
    assert role["permissionsBoundary"] == BOUNDARY
    assert judge_policy_document(role["assumeRolePolicy"], "trust") == []
    policy = json.loads(recorded.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    assert judge_policy_document(policy, "identity") == []
    register = next(s for s in policy["Statement"] if s["Sid"] == "CapOwnScalableTargets")
    assert register["Resource"] == sorted(TARGET_ARNS.values())
    ecs = next(s for s in policy["Statement"] if s["Sid"] == "UpdateOwnServices")
    assert ecs["Resource"] == sorted(SERVICE_ARNS.values())
    topic_policy = recorded.one("aws:sns/topicPolicy:TopicPolicy").inputs["policy"]
    assert judge_policy_document(topic_policy, "resource") == []


LAMBDA_MODEL = botocore.session.get_session().get_service_model("lambda")


def lambda_problems(operation: str, request: dict) -> list[str]:
    shape = LAMBDA_MODEL.operation_model(operation).input_shape
    report = ParamValidator().validate(request, shape)
    return ([report.generate_report()] if report.has_errors() else []) + model_violations(request, shape)


def wire_int(value):
    """Numbers cross the Pulumi wire as floats; the API takes integers."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def test_the_code_archive_ships_the_handler_module_at_the_handler_path(recorded):
    assets = recorded.one("aws:lambda/function:Function").inputs["code"].assets
    assert list(assets) == ["budget_scale_down_handler.py"]
    assert Path(assets["budget_scale_down_handler.py"].path).resolve() == Path(handler_module.__file__).resolve()


def test_the_recorded_code_is_the_handler_files_content_so_a_code_change_is_an_update(recorded):
    import hashlib

    from devkit.mocks import to_plain

    code = to_plain(recorded.one("aws:lambda/function:Function").inputs["code"])
    digest = hashlib.sha256(Path(handler_module.__file__).read_bytes()).hexdigest()
    assert code == {"assetArchive": {"budget_scale_down_handler.py": {
        "fileAsset": "budget_scale_down_handler.py", "sha256": digest}}}


def test_the_function_and_permission_payloads_fit_the_lambda_api(recorded):
    function = recorded.one("aws:lambda/function:Function").inputs
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        for path, asset in function["code"].assets.items():
            bundle.write(asset.path, path)
    create = {"FunctionName": function["name"], "Runtime": function["runtime"],
              "Role": recorded.one("aws:iam/role:Role").outputs["arn"], "Handler": function["handler"],
              "Code": {"ZipFile": archive.getvalue()}, "Description": function["description"],
              "Timeout": wire_int(function["timeout"]), "MemorySize": wire_int(function["memorySize"]),
              "Environment": {"Variables": function["environment"]["variables"]},
              "Architectures": function["architectures"],
              "LoggingConfig": {"LogFormat": function["loggingConfig"]["logFormat"],
                                "LogGroup": function["loggingConfig"]["logGroup"]},
              "TracingConfig": {"Mode": function["tracingConfig"]["mode"]},
              "DeadLetterConfig": {"TargetArn": function["deadLetterConfig"]["targetArn"]}}
    assert lambda_problems("CreateFunction", create) == []
    permission = recorded.one("aws:lambda/permission:Permission").inputs
    add = {"FunctionName": permission["function"], "StatementId": "sns-invoke", "Action": permission["action"],
           "Principal": permission["principal"], "SourceArn": permission["sourceArn"]}
    assert lambda_problems("AddPermission", add) == []


# --- the platform's key policy and boundary --------------------------------------------------------


def platform_boundary(name=NAME) -> dict:
    return permissions_boundary(ACCOUNT_ID, REGION, "staging", KEY, "staging-alb", None,
                                pull_through_cache_prefix="staging-ecr-public", budget_scale_down_name=name)


def test_the_boundary_admits_every_action_of_the_role_on_its_resources_and_passes_the_iam_judge():
    boundary = platform_boundary()
    assert judge_policy_document(boundary, "identity") == []
    admitted = {action for s in boundary["Statement"] for action in s["Action"]}
    policy = role_policy(TARGET_ARNS.values(), SERVICE_ARNS.values(),
                         f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/aws/lambda/{NAME}", ALERTS, KEY)
    assert {a for s in policy["Statement"] for a in s["Action"]} <= admitted
    publish = next(s for s in boundary["Statement"] if s["Sid"] == "BudgetScaleDownDeadLettersToAlerts")
    assert publish["Resource"] == f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:staging*-alerts"
    assert "application-autoscaling:RegisterScalableTarget" not in {
        a for s in platform_boundary(None)["Statement"] for a in s["Action"]}


def test_the_boundary_holds_scalable_targets_to_the_environment_tag():
    statement = next(s for s in boundary_statements(ACCOUNT_ID, REGION, "staging", NAME)
                     if s["Sid"] == "BudgetScaleDownCapsOwnServices")
    untagged = {**statement, "Condition": {"StringEquals": {
        k: v for k, v in statement["Condition"]["StringEquals"].items() if k != "aws:ResourceTag/environment"}}}
    assert judge_policy_document({"Version": "2012-10-17", "Statement": [statement]}, "identity") == []
    assert judge_policy_document({"Version": "2012-10-17", "Statement": [untagged]}, "identity") != []


def test_the_platform_key_admits_budgets_for_the_scale_down_topic_only():
    statements = kms_key_policy(ACCOUNT_ID, REGION, "staging-alerts", NAME)["Statement"]
    scale_down = next(s for s in statements if s["Sid"] == "BudgetsPublishToScaleDownTopic")
    assert scale_down["Principal"] == {"Service": "budgets.amazonaws.com"}
    assert scale_down["Condition"]["StringEquals"]["kms:EncryptionContext:aws:sns:topicArn"] == TOPIC
    assert "BudgetsPublishToScaleDownTopic" not in {s["Sid"] for s in kms_key_policy(
        ACCOUNT_ID, REGION, "staging-alerts")["Statement"]}


# --- settings ----------------------------------------------------------------------------------------


def test_scale_down_on_breach_is_refused_outside_staging():
    config = dict(read_stack_file("prod").config)
    budget = json.loads(config[f"{NS}:budget"]) | {"scaleDownOnBreach": True}
    config[f"{NS}:budget"] = json.dumps(budget)
    with pytest.raises(ConfigError, match=r"scaleDownOnBreach is allowed only in staging"):
        settings_from_config("prod", config, load_catalog())


@pytest.mark.parametrize("stack", ["staging", "staging-euw1"])
def test_both_staging_stacks_opt_in(stack):
    settings = settings_from_config(stack, read_stack_file(stack).config, load_catalog())
    assert settings.config.budget.scale_down_on_breach is True
