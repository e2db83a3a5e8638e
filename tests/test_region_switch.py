"""The Region switch plan each standby registers: its steps and their order, its payload against botocore's
CreatePlan model, its execution and approval roles, and DNS that never answers with a region whose database
is not the writer, on the records and health checks the stacks register."""

from __future__ import annotations

import json
import re

import botocore.session
import pytest
from botocore.validate import ParamValidator

from policies.iam_documents import judge_policy_document
from tests.ecs_api import model_violations

PLAN = "aws:arcregionswitch/plan:Plan"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
CREATE_PLAN = botocore.session.get_session().get_service_model("arc-region-switch").operation_model("CreatePlan")
BLOCK_CONFIG_KEYS = {  # the provider's list-valued blocks -> CreatePlan's ExecutionBlockConfiguration members
    "ecsCapacityIncreaseConfigs": "ecsCapacityIncreaseConfig", "globalAuroraConfigs": "globalAuroraConfig",
    "customActionLambdaConfigs": "customActionLambdaConfig", "executionApprovalConfigs": "executionApprovalConfig",
    "parallelConfigs": "parallelConfig"}


def plan_of(preview):
    return preview.recorder.one(PLAN).inputs


def steps_by_name(workflow):
    return {step["name"]: step for step in workflow["steps"]}


def activate(preview, region):
    return next(w for w in plan_of(preview)["workflows"]
                if w["workflowTargetAction"] == "activate" and w["workflowTargetRegion"] == region)


def api_step(step: dict) -> dict:
    """A provider step as the CreatePlan API spells it (one block object, `ungraceful` a structure)."""
    (key,) = [k for k in step if k in BLOCK_CONFIG_KEYS]
    (config,) = step[key]
    config = dict(config)
    if "ungracefuls" in config:
        (config["ungraceful"],) = config.pop("ungracefuls")
    if key == "parallelConfigs":
        config["steps"] = [api_step(s) for s in config["steps"]]
    return {"name": step["name"], "description": step["description"],
            "executionBlockType": step["executionBlockType"],
            "executionBlockConfiguration": {BLOCK_CONFIG_KEYS[key]: config}}


def create_plan_request(plan: dict) -> dict:
    request = {k: plan[k] for k in ("name", "executionRole", "recoveryApproach", "regions", "primaryRegion",
                                    "description")}
    request["recoveryTimeObjectiveMinutes"] = int(plan["recoveryTimeObjectiveMinutes"])
    request["workflows"] = [{**{k: v for k, v in w.items() if k != "steps"},
                             "steps": [api_step(s) for s in w["steps"]]} for w in plan["workflows"]]
    return json.loads(json.dumps(request), parse_float=lambda f: int(float(f)) if float(f).is_integer() else float(f))


@pytest.mark.parametrize("standby", ["prod_standby", "staging_standby"])
def test_the_plan_is_a_valid_create_plan_request(standby, request):
    plan = plan_of(request.getfixturevalue(standby))
    payload = create_plan_request(plan)
    report = ParamValidator().validate(payload, CREATE_PLAN.input_shape)
    assert not report.has_errors(), report.generate_report()
    assert model_violations(payload, CREATE_PLAN.input_shape) == []
    assert re.fullmatch(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?", plan["name"])
    assert plan["recoveryApproach"] == "activePassive"
    assert plan["regions"] == ["eu-central-1", "eu-west-1"] and plan["primaryRegion"] == "eu-central-1"


def test_prod_activation_approves_stops_the_old_outbox_then_scales_moves_writers_starts_the_outbox_then_traffic(
        prod_standby):
    for region in ("eu-west-1", "eu-central-1"):  # failover/switchover, and failback
        workflow = activate(prod_standby, region)
        assert [s["name"] for s in workflow["steps"]] == [
            "approve", "stop-outbox", "capacity-and-writer", "close-traffic", "open-traffic"]
        parallel = steps_by_name(workflow)["capacity-and-writer"]["parallelConfigs"][0]["steps"]
        kinds = {s["name"]: s["executionBlockType"] for s in parallel}
        services = {s.name for s in prod_standby.settings.services}
        assert {n for n, k in kinds.items() if k == "ECSServiceScaling"} == {f"capacity-{s}" for s in services}
        assert {n for n, k in kinds.items() if k == "AuroraGlobalDatabase"} == {"writer-persona"}
        assert kinds["start-outbox"] == "CustomActionLambda"


def test_each_capacity_step_pairs_the_primarys_service_with_the_standbys(prod, prod_standby):
    parallel = steps_by_name(activate(prod_standby, "eu-west-1"))["capacity-and-writer"]["parallelConfigs"][0]["steps"]
    for step in (s for s in parallel if s["executionBlockType"] == "ECSServiceScaling"):
        (config,) = step["ecsCapacityIncreaseConfigs"]
        name = step["name"].removeprefix("capacity-")
        primary, standby = config["services"]
        assert primary["serviceArn"] == prod.outputs["services"][name]["arn"]
        assert standby["serviceArn"] == prod_standby.outputs["services"][name]["arn"]
        assert primary["clusterArn"] == prod.outputs["clusterArn"]
        assert standby["clusterArn"] == prod_standby.outputs["clusterArn"]
        assert config["targetPercent"] == 100


def test_the_writer_switches_over_when_graceful_and_fails_over_only_when_ungraceful(prod, prod_standby):
    parallel = steps_by_name(activate(prod_standby, "eu-west-1"))["capacity-and-writer"]["parallelConfigs"][0]["steps"]
    (config,) = next(s for s in parallel if s["name"] == "writer-persona")["globalAuroraConfigs"]
    assert config["behavior"] == "switchoverOnly" and config["ungracefuls"] == [{"ungraceful": "failover"}]
    assert config["globalClusterIdentifier"] == prod.outputs["databases"]["persona"]["globalClusterIdentifier"]
    assert config["databaseClusterArns"] == [prod.outputs["databases"]["persona"]["clusterArn"],
                                             prod_standby.outputs["databases"]["persona"]["clusterArn"]]


def test_the_old_region_stops_publishing_before_the_new_one_starts_and_stays_silent_after_recovery(prod, prod_standby):
    steps = steps_by_name(activate(prod_standby, "eu-west-1"))
    names = list(steps)
    assert names.index("stop-outbox") < names.index("capacity-and-writer") < names.index("open-traffic")
    stop = steps["stop-outbox"]["customActionLambdaConfigs"][0]
    parallel = steps_by_name(steps["capacity-and-writer"]["parallelConfigs"][0])
    start = parallel["start-outbox"]["customActionLambdaConfigs"][0]
    assert stop["regionToRun"] == "deactivatingRegion" and stop["ungracefuls"] == [{"behavior": "skip"}]
    assert start["regionToRun"] == "activatingRegion" and "ungracefuls" not in start
    assert stop["lambdas"] == [{"arn": prod.outputs["regionActions"]["stop-outbox"]},
                               {"arn": prod_standby.outputs["regionActions"]["stop-outbox"]}]
    recovery = next(w for w in plan_of(prod_standby)["workflows"] if w["workflowTargetAction"] == "postRecovery")
    by_name = steps_by_name(recovery)
    assert by_name["stop-outbox"]["customActionLambdaConfigs"][0]["regionToRun"] == "inactiveRegion"
    assert by_name["close-traffic"]["customActionLambdaConfigs"][0]["regionToRun"] == "inactiveRegion"


def test_the_outbox_functions_switch_exactly_the_stacks_pipes(prod, prod_standby):
    pipes = sorted(p.inputs["name"] for p in prod.recorder.of_type("aws:pipes/pipe:Pipe"))
    assert pipes == ["prod-upload-outbox", "prod-vc-start-outbox"]
    for preview in (prod, prod_standby):
        functions = {f.inputs["name"]: f for f in preview.recorder.of_type("aws:lambda/function:Function")
                     if "-outbox" in f.inputs["name"]}
        for action in ("start-outbox", "stop-outbox"):
            variables = functions[f"{preview.stack}-{action}"].inputs["environment"]["variables"]
            assert variables == {"REGION_ACTION": action, "PIPE_NAMES": json.dumps(pipes)}


def test_staging_rehearses_the_same_plan_without_approval(staging_standby):
    workflow = activate(staging_standby, "eu-west-1")
    # Staging has DNS failover (a delegated subdomain) and persona's global database, but no service with an
    # outbox (docs/failover.md, "Rehearsal in staging").
    assert [s["name"] for s in workflow["steps"]] == ["capacity-and-writer", "close-traffic", "open-traffic"]
    parallel = workflow["steps"][0]["parallelConfigs"][0]["steps"]
    assert {s["name"] for s in parallel} == {"capacity-auth", "capacity-persona", "writer-persona"}
    writer = next(s for s in parallel if s["name"] == "writer-persona")["globalAuroraConfigs"][0]
    assert writer["globalClusterIdentifier"] == "staging-persona"
    assert staging_standby.recorder.of_type("aws:iam/role:Role") and not [
        r for r in staging_standby.recorder.of_type("aws:iam/role:Role") if "approver" in str(r.inputs.get("name"))]


def _role_policy(preview, suffix):
    return json.loads(next(p for p in preview.recorder.of_type(ROLE_POLICY) if p.name.endswith(suffix)).inputs["policy"])


def test_the_execution_role_may_call_only_the_plans_own_resources(prod, prod_standby):
    policy = _role_policy(prod_standby, "region-switch-execution-policy")
    assert judge_policy_document(policy, "identity") == []
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    service_arns = {s["arn"] for p in (prod, prod_standby) for s in p.outputs["services"].values()}
    assert set(by_sid["ScaleThePlansServices"]["Resource"]) == service_arns
    assert by_sid["MoveThePlansWriters"]["Resource"] == sorted([
        "arn:aws:rds::123456789012:global-cluster:prod-persona", prod.outputs["databases"]["persona"]["clusterArn"],
        prod_standby.outputs["databases"]["persona"]["clusterArn"]])
    functions = {*prod.outputs["regionActions"].values(), *prod_standby.outputs["regionActions"].values()}
    assert set(by_sid["InvokeTheRegionActions"]["Resource"]) == functions
    assert by_sid["RaiseOwnEnvironmentsScalableTargets"]["Condition"] == {
        "StringEquals": {"aws:ResourceTag/environment": "prod"}}
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert actions == {"ecs:DescribeServices", "ecs:UpdateService", "application-autoscaling:DescribeScalableTargets",
                       "application-autoscaling:RegisterScalableTarget", "rds:FailoverGlobalCluster",
                       "rds:SwitchoverGlobalCluster", "rds:DescribeGlobalClusters", "rds:DescribeDBClusters",
                       "lambda:InvokeFunction"}
    # The boundary is the same document: the role can never be granted more than the plan's steps.
    boundary = next(p for p in prod_standby.recorder.of_type("aws:iam/policy:Policy")
                    if p.inputs.get("name") == "prod-eu-west-1-boundary-region-switch")
    assert json.loads(boundary.inputs["policy"]) == policy
    role = next(r for r in prod_standby.recorder.of_type("aws:iam/role:Role")
                if r.inputs.get("name") == "prod-region-switch-execution")
    assert role.inputs["permissionsBoundary"] == boundary.outputs["arn"]
    (trust,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "arc-region-switch.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_the_staging_execution_role_moves_exactly_the_staging_writer(staging, staging_standby):
    policy = _role_policy(staging_standby, "region-switch-execution-policy")
    assert judge_policy_document(policy, "identity") == []
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["MoveThePlansWriters"]["Resource"] == sorted([
        "arn:aws:rds::123456789012:global-cluster:staging-persona",
        staging.outputs["databases"]["persona"]["clusterArn"],
        staging_standby.outputs["databases"]["persona"]["clusterArn"]])
    assert by_sid["RaiseOwnEnvironmentsScalableTargets"]["Condition"] == {
        "StringEquals": {"aws:ResourceTag/environment": "staging"}}


def test_prod_approvers_may_approve_only_this_plans_steps(prod_standby):
    (approve,) = activate(prod_standby, "eu-west-1")["steps"][:1]
    role = next(r for r in prod_standby.recorder.of_type("aws:iam/role:Role")
                if r.inputs.get("name") == "prod-region-switch-approver")
    assert approve["executionApprovalConfigs"][0]["approvalRole"] == role.outputs["arn"]
    policy = _role_policy(prod_standby, "region-switch-approval-policy")
    assert judge_policy_document(policy, "identity") == []
    (statement,) = policy["Statement"]
    assert statement["Resource"] == "arn:aws:arc-region-switch::123456789012:plan/prod-region-switch:*"


def test_the_standby_owns_the_plan_in_its_own_region_and_reads_the_primary_only_from_its_outputs(prod_standby):
    plan = prod_standby.recorder.one(PLAN)
    assert plan.provider_region == "eu-west-1"
    assert prod_standby.outputs["regionSwitchPlanArn"].startswith("arn:aws:arc-region-switch::123456789012:plan/")
    assert {r.provider_region for r in prod_standby.recorder.resources if r.type.startswith("aws:")} == {"eu-west-1"}


def test_a_pilot_light_standby_has_no_liveness_alarm_that_could_never_leave_alarm(staging_standby, prod_standby):
    def route53_alarms(preview):
        return [a for a in preview.recorder.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
                if a.inputs.get("namespace") == "AWS/Route53"]

    assert 0 in staging_standby.settings.config.failover.standby_min_tasks.values()
    assert route53_alarms(staging_standby) == []
    assert route53_alarms(prod_standby), "a warm standby keeps its liveness alarm"
