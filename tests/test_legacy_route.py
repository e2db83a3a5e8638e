"""Strangler fig: a legacy Lambda behind the ALB (target group, invoke permission, attachment), a service's
route split between ECS and that Lambda, the ALB's default action to it, and the settings that drive them."""

from __future__ import annotations

import json
import re

import botocore.session
import pytest
from botocore.validate import ParamValidator

from components.legacy.legacy_route import LegacyFunction, LegacyFunctionArgs, LegacySplit
from components.mesh_service import MeshService
from devkit.mocks import ACCOUNT_ID, run_program
from foundation.settings import ConfigError, load_catalog, read_stack_file, settings_from_config
from tests.ecs_api import model_violations
from tests.test_mesh_service import REGION, service_args

FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:prod-monolith-api"
SESSION = botocore.session.get_session()


def api_problems(service: str, operation: str, request: dict) -> list[str]:
    """What the AWS API model of `operation` refuses in `request` (structure, enums, bounds, patterns)."""
    shape = SESSION.get_service_model(service).operation_model(operation).input_shape
    report = ParamValidator().validate(request, shape)
    problems = [report.generate_report()] if report.has_errors() else []
    for key, value in request.items():
        pattern = shape.members[key].metadata.get("pattern") if key in shape.members else None
        if pattern and isinstance(value, str) and not re.fullmatch(pattern, value):
            problems.append(f"{key}={value!r} does not match {pattern}")
    return problems + model_violations(request, shape)


@pytest.fixture(scope="module")
def migrating():
    """A routed service whose route ECS serves 30% of, the rest going to the legacy function."""
    def program():
        legacy = LegacyFunction("monolith", LegacyFunctionArgs(
            environment="prod", region=REGION, name="monolith-api", function_arn=FUNCTION_ARN))
        split = LegacySplit(function_name="monolith-api", target_group_arn=legacy.target_group_arn, ecs_weight=30,
                            priority=109)
        MeshService("orders", service_args("orders", 8080, routed=True, legacy=split))
        return {"target_group": legacy.target_group_arn}

    return run_program(program, project="microservices-foundation", stack="test", region=REGION)


def test_the_legacy_function_sits_in_a_lambda_target_group_it_alone_may_invoke(migrating):
    recorder, outputs = migrating
    group = recorder.one("aws:lb/targetGroup:TargetGroup", "monolith-tg")
    permission = recorder.one("aws:lambda/permission:Permission", "monolith-invoke").inputs
    attachment = recorder.one("aws:lb/targetGroupAttachment:TargetGroupAttachment", "monolith-attachment")
    assert group.inputs["targetType"] == "lambda" and group.inputs["healthCheck"] == {"enabled": False}
    assert permission["principal"] == "elasticloadbalancing.amazonaws.com"
    assert permission["action"] == "lambda:InvokeFunction" and permission["function"] == FUNCTION_ARN
    assert permission["sourceArn"] == outputs["target_group"] == group.outputs["arn"]
    assert attachment.inputs == {"targetGroupArn": group.outputs["arn"], "targetId": FUNCTION_ARN}
    # AWS refuses to register the function before the ALB may invoke it.
    assert recorder.one("aws:lambda/permission:Permission", "monolith-invoke").urn in attachment.dependencies

    assert api_problems("elbv2", "CreateTargetGroup", {
        "Name": group.inputs["name"], "TargetType": group.inputs["targetType"], "HealthCheckEnabled": False}) == []
    assert api_problems("lambda", "AddPermission", {
        "FunctionName": permission["function"], "StatementId": permission["statementId"],
        "Action": permission["action"], "Principal": permission["principal"],
        "SourceArn": permission["sourceArn"]}) == []
    assert api_problems("elbv2", "RegisterTargets", {
        "TargetGroupArn": attachment.inputs["targetGroupArn"], "Targets": [{"Id": attachment.inputs["targetId"]}]}) == []


def test_a_split_route_is_a_weighted_rule_in_front_and_the_service_rolls_on_its_primary_group(migrating):
    recorder, _ = migrating
    primary = recorder.one("aws:lb/targetGroup:TargetGroup", "orders-tg-a").outputs["arn"]
    lambda_group = recorder.one("aws:lb/targetGroup:TargetGroup", "monolith-tg").outputs["arn"]
    split = recorder.one("aws:lb/listenerRule:ListenerRule", "orders-legacy-split").inputs
    production = recorder.one("aws:lb/listenerRule:ListenerRule", "orders-route").inputs
    assert (split["priority"], production["priority"]) == (109, 110)
    assert split["conditions"] == production["conditions"]
    assert split["actions"] == [{"type": "forward", "forward": {"targetGroups": [
        {"arn": primary, "weight": 30}, {"arn": lambda_group, "weight": 70}]}}]
    assert api_problems("elbv2", "CreateRule", {
        # Numbers cross the Pulumi wire as doubles; the API takes integers.
        "ListenerArn": split["listenerArn"], "Priority": int(split["priority"]),
        "Conditions": [{"Field": "path-pattern", "PathPatternConfig": {"Values": split["conditions"][0]["pathPattern"]["values"]}}],
        "Actions": [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": g["arn"], "Weight": int(g["weight"])} for g in split["actions"][0]["forward"]["targetGroups"]]}}],
    }) == []

    service = recorder.one("aws:ecs/service:Service", "orders-service").inputs
    assert service["deploymentConfiguration"] == {"strategy": "ROLLING"}
    assert service["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert service["loadBalancers"] == [{"targetGroupArn": primary, "containerName": "orders", "containerPort": 8080}]
    assert service["alarms"]["rollback"] is True


@pytest.mark.parametrize("make, message", [
    (lambda: LegacySplit("m", "arn:tg", ecs_weight=100, priority=9), "is no split"),
    (lambda: LegacySplit("m", "arn:tg", ecs_weight=101, priority=9), "within 0..100"),
    (lambda: LegacyFunctionArgs("prod", REGION, "monolith-api", FUNCTION_ARN.replace(REGION, "us-east-1")),
     "of its own region"),
    (lambda: LegacyFunctionArgs("prod", REGION, "monolith-api", FUNCTION_ARN + ":live"), "unqualified"),
    (lambda: LegacyFunctionArgs("prod", REGION, "a-very-long-legacy-name", FUNCTION_ARN), "1-16 lowercase"),
])
def test_arguments_aws_would_refuse_are_rejected(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make()


def _staging_with_legacy(legacy: dict):
    stack_file = read_stack_file("staging")
    config = dict(stack_file.config, **{"microservices-foundation:legacy": json.dumps(legacy)})
    return settings_from_config("staging", config, load_catalog())


STAGING_FUNCTION = f"arn:aws:lambda:eu-central-1:{ACCOUNT_ID}:function:staging-monolith-api"


@pytest.mark.parametrize("legacy, message", [
    ({"functions": {"monolith-api": STAGING_FUNCTION}, "ecsWeights": {"auth": 50}}, "legacy.ecsWeights.auth"),
    ({"functions": {"other": STAGING_FUNCTION}, "ecsWeights": {"persona": 50}}, "needs microservices-foundation:legacy.functions.monolith-api"),
    ({"functions": {"monolith-api": STAGING_FUNCTION.replace("eu-central-1", "eu-west-1")}},
     "legacy.functions.monolith-api"),
    ({"functions": {"monolith-api": STAGING_FUNCTION}, "defaultFunction": "other"}, "defaultFunction 'other'"),
    ({"functions": {"monolith-api": STAGING_FUNCTION}, "ecsWeights": {"persona": 120}}, "legacy.ecsWeights.persona"),
])
def test_legacy_settings_that_cannot_work_name_the_key(legacy, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        _staging_with_legacy(legacy)


def test_a_weight_of_100_means_ecs_owns_the_route_and_unused_functions_are_not_built():
    settings = _staging_with_legacy({"functions": {"monolith-api": STAGING_FUNCTION}, "ecsWeights": {"persona": 100}})
    assert settings.legacy.splits == {} and settings.legacy.functions == {}


def test_staging_splits_persona_and_sends_unrouted_requests_to_the_monolith(staging):
    recorder = staging.recorder
    monolith = recorder.one("aws:lb/targetGroup:TargetGroup", "staging-legacy-monolith-api-tg").outputs["arn"]
    # With a domain the HTTPS listener serves and the HTTP one only redirects to it.
    listeners = {int(item.inputs["port"]): item for item in recorder.of_type("aws:lb/listener:Listener")}
    assert listeners[443].inputs["defaultActions"] == [{"type": "forward", "targetGroupArn": monolith}]
    assert listeners[80].inputs["defaultActions"][0]["type"] == "redirect"
    split = recorder.one("aws:lb/listenerRule:ListenerRule", "staging-persona-legacy-split").inputs
    weights = {g["arn"]: g["weight"] for g in split["actions"][0]["forward"]["targetGroups"]}
    assert weights[monolith] == 75 and sum(weights.values()) == 100
    assert recorder.one("aws:ecs/service:Service", "staging-persona-service").inputs[
        "deploymentConfiguration"]["strategy"] == "ROLLING"
    assert recorder.one("aws:ecs/service:Service", "staging-auth-service").inputs[
        "deploymentConfiguration"]["strategy"] == "CANARY"
