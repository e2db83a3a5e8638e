"""The Region switch actions: the handler against botocore's Pipes and Route 53 models (Stubber), the
functions and gate each stack registers, and their role judged like every other role."""

from __future__ import annotations

import json

import botocore.session
import pytest
from botocore.stub import Stubber

from components.failover import region_actions_handler as handler
from components.failover.region_actions import role_policy
from policies.iam_documents import judge_policy_document

SESSION = botocore.session.get_session()
PIPES = ["prod-upload-outbox", "prod-vc-start-outbox"]


def pipes_client():
    return SESSION.create_client("pipes", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")


def route53_client():
    return SESSION.create_client("route53", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def described(name: str, state: str) -> dict:
    return {"Name": name, "Arn": f"arn:aws:pipes:eu-west-1:123456789012:pipe/{name}", "CurrentState": state,
            "DesiredState": "RUNNING" if state in ("RUNNING", "STARTING") else "STOPPED"}


def test_start_asks_every_stopped_pipe_and_raises_until_all_run_so_arc_retries():
    client = pipes_client()
    with Stubber(client) as stub:
        stub.add_response("describe_pipe", described(PIPES[0], "STOPPED"), {"Name": PIPES[0]})
        stub.add_response("start_pipe", {"Name": PIPES[0], "CurrentState": "STARTING"}, {"Name": PIPES[0]})
        stub.add_response("describe_pipe", described(PIPES[1], "STARTING"), {"Name": PIPES[1]})
        with pytest.raises(handler.NotSettled, match=r"\['prod-upload-outbox', 'prod-vc-start-outbox'\] are not RUNNING"):
            handler.switch_outbox(client, "start-outbox", PIPES)
        stub.assert_no_pending_responses()
    with Stubber(client) as stub:  # ARC's retry a minute later: both run, nothing is asked again
        for name in PIPES:
            stub.add_response("describe_pipe", described(name, "RUNNING"), {"Name": name})
        assert handler.switch_outbox(client, "start-outbox", PIPES) == {"action": "start-outbox", "pipes": PIPES}


def test_stop_leaves_stopped_pipes_alone_and_stops_running_ones():
    client = pipes_client()
    with Stubber(client) as stub:
        stub.add_response("describe_pipe", described(PIPES[0], "STOPPED"), {"Name": PIPES[0]})
        stub.add_response("describe_pipe", described(PIPES[1], "RUNNING"), {"Name": PIPES[1]})
        stub.add_response("stop_pipe", {"Name": PIPES[1], "CurrentState": "STOPPING"}, {"Name": PIPES[1]})
        with pytest.raises(handler.NotSettled, match="prod-vc-start-outbox"):
            handler.switch_outbox(client, "stop-outbox", PIPES)
        stub.assert_no_pending_responses()


@pytest.mark.parametrize("action, was, becomes", [("close-traffic", False, True), ("open-traffic", True, False)])
def test_traffic_actions_invert_the_gate_only_when_it_is_not_yet_so(action, was, becomes):
    client = route53_client()
    config = {"Type": "CALCULATED", "Inverted": was, "HealthThreshold": 0, "ChildHealthChecks": []}
    check = {"Id": "gate-1", "CallerReference": "ref", "HealthCheckConfig": config, "HealthCheckVersion": 1}
    with Stubber(client) as stub:
        stub.add_response("get_health_check", {"HealthCheck": check}, {"HealthCheckId": "gate-1"})
        stub.add_response("update_health_check", {"HealthCheck": {**check, "HealthCheckConfig": {
            **config, "Inverted": becomes}}}, {"HealthCheckId": "gate-1", "Inverted": becomes})
        assert handler.switch_traffic(client, action, "gate-1")["inverted"] is becomes
        stub.add_response("get_health_check", {"HealthCheck": {**check, "HealthCheckConfig": {
            **config, "Inverted": becomes}}}, {"HealthCheckId": "gate-1"})
        handler.switch_traffic(client, action, "gate-1")  # again: no update call
        stub.assert_no_pending_responses()


@pytest.mark.parametrize("env, message", [
    ({"REGION_ACTION": "promote"}, "REGION_ACTION must be one of"),
    ({"REGION_ACTION": "start-outbox", "PIPE_NAMES": "[]"}, "non-empty JSON list"),
    ({"REGION_ACTION": "open-traffic"}, "GATE_HEALTH_CHECK_ID is empty"),
])
def test_a_misconfigured_function_fails_naming_the_variable(env, message, monkeypatch):
    for key in ("REGION_ACTION", "PIPE_NAMES", "GATE_HEALTH_CHECK_ID"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ValueError, match=message):
        handler.handler({}, None, client=object())


def test_the_actions_role_names_exactly_its_pipes_gate_and_logs():
    policy = role_policy("eu-west-1", "123456789012", ("prod-euw1-start-outbox", "prod-euw1-stop-outbox"),
                         tuple(PIPES), "0d8f7a1e-1111-2222-3333-444455556666")
    assert judge_policy_document(policy, "identity") == []
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["SwitchOwnOutboxPipes"]["Resource"] == [
        f"arn:aws:pipes:eu-west-1:123456789012:pipe/{p}" for p in PIPES]
    assert by_sid["FlipOwnTrafficGate"]["Resource"] == (
        "arn:aws:route53:::healthcheck/0d8f7a1e-1111-2222-3333-444455556666")


@pytest.mark.parametrize("stack_fixture", ["prod", "prod_standby"])
def test_each_prod_stack_registers_its_four_actions_and_a_gate_under_a_boundary_equal_to_its_policy(
        stack_fixture, request):
    preview = request.getfixturevalue(stack_fixture)
    names = sorted(f.inputs["name"] for f in preview.recorder.of_type("aws:lambda/function:Function")
                   if f.parent and "RegionActions" in f.parent)
    assert names == sorted(f"{preview.stack}-{a}" for a in handler.ACTIONS)
    gate = preview.recorder.one("aws:route53/healthCheck:HealthCheck", f"{preview.stack}-region-actions-traffic-gate")
    assert gate.inputs["invertHealthcheck"] is (preview.settings.role == "standby")
    policy = next(p for p in preview.recorder.of_type("aws:iam/rolePolicy:RolePolicy")
                  if p.name == f"{preview.stack}-region-actions-role-policy")
    boundary = next(p for p in preview.recorder.of_type("aws:iam/policy:Policy")
                    if p.inputs.get("name") == f"prod-{preview.settings.region}-boundary-region-actions")
    assert json.loads(policy.inputs["policy"]) == json.loads(boundary.inputs["policy"])
    assert judge_policy_document(json.loads(policy.inputs["policy"]), "identity") == []
