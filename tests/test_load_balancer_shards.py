"""Routed services spread over several ALBs: each service on its shard's listener and security group, one
failover record pair per ALB, the first ALB unchanged."""

from __future__ import annotations

import json

import pytest

from devkit.mocks import run_program
from devkit.synthetic import enable_all, synthetic_catalog
from foundation.settings import PROJECT_DIR, Catalog, read_stack_file, settings_from_config

KEY = "microservices-foundation"
LISTENER = "aws:lb/listener:Listener"


@pytest.fixture(scope="module")
def sharded():
    """prod with 10 services (5 routed) at 2 routed services per ALB: 3 ALBs."""
    from foundation.stack import build

    raw = synthetic_catalog(10)
    stack_file = read_stack_file("prod", PROJECT_DIR)
    config = enable_all(stack_file.config, raw) | {f"{KEY}:loadBalancers": {"maxRoutedServicesPerAlb": 2}}
    settings = settings_from_config("prod", config, Catalog.model_validate(raw))
    wire_config = {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
    recorder, outputs = run_program(lambda: build(settings), project=KEY, stack="prod", region=settings.region,
                                    config=wire_config)
    return settings, recorder, outputs


def _albs_in_order(recorder):
    """The ALBs first to last (the record order follows the SDK's threads, not the program's order)."""
    return sorted(recorder.of_type("aws:lb/loadBalancer:LoadBalancer"), key=lambda a: (len(a.name), a.name))


def test_each_shard_is_its_own_alb_and_the_first_keeps_its_name(sharded):
    settings, recorder, _ = sharded
    albs = _albs_in_order(recorder)
    assert [len(shard) for shard in settings.alb_shards] == [2, 2, 1]
    assert [(a.name, a.inputs["name"]) for a in albs] == [
        ("prod-eu-central-1-alb", "prod-euc1-platform"), ("prod-eu-central-1-alb-2", "prod-euc1-platform-2"),
        ("prod-eu-central-1-alb-3", "prod-euc1-platform-3")]
    # One access-log bucket and one certificate serve every ALB.
    (log_bucket,) = [b for b in recorder.of_type("aws:s3/bucket:Bucket") if b.name.endswith("-alb-logs")]
    assert len(recorder.of_type("aws:acm/certificate:Certificate")) == 1
    assert {a.inputs["accessLogs"]["bucket"] for a in albs} == {log_bucket.outputs["bucket"]}


def test_each_routed_service_hangs_on_its_shards_https_listener_and_only_its_alb_reaches_it(sharded):
    settings, recorder, _ = sharded
    albs = _albs_in_order(recorder)
    https = {item.inputs["loadBalancerArn"]: item.outputs["arn"] for item in recorder.of_type(LISTENER) if item.inputs["port"] == 443}
    alb_groups = [a.inputs["securityGroups"][0] for a in albs]
    rules = {r.inputs["tags"]["service"]: r for r in recorder.of_type("aws:lb/listenerRule:ListenerRule")}
    egress = recorder.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    for index, shard in enumerate(settings.alb_shards):
        listener = https[albs[index].outputs["arn"]]
        assert {rules[s.name].inputs["listenerArn"] for s in shard} == {listener}
        reached = {r.inputs["tags"]["service"] for r in egress if r.inputs["securityGroupId"] == alb_groups[index]}
        assert reached == {s.name for s in shard}


def test_every_alb_has_its_own_failover_name_and_health_check(sharded):
    settings, recorder, outputs = sharded
    records = {r.inputs["name"]: r for r in recorder.of_type("aws:route53/record:Record")
               if r.inputs.get("failoverRoutingPolicies")}
    assert sorted(records) == ["api-2.platform.example.com", "api-3.platform.example.com", "api.platform.example.com"]
    assert outputs["apiRecordNames"] == ["api.platform.example.com", "api-2.platform.example.com",
                                         "api-3.platform.example.com"]
    checks = {c.inputs["resourcePath"] for c in recorder.of_type("aws:route53/healthCheck:HealthCheck")
              if c.inputs["type"] == "HTTPS"}
    first_of = [f"{shard[0].path_prefix}{shard[0].health_path}" for shard in settings.alb_shards]
    assert checks == {settings.config.failover.health_check_path, *first_of[1:]}


def test_the_traffic_shift_boundary_covers_every_alb(sharded):
    _, recorder, _ = sharded
    boundary = json.loads(recorder.one("aws:iam/policy:Policy", "prod-eu-central-1-boundary").inputs["policy"])
    shift = next(s for s in boundary["Statement"] if s["Sid"] == "ShiftTrafficOnOwnLoadBalancer")
    names = {arn.split("/app/")[1].split("/")[0] for arn in shift["Resource"]}
    assert names == {"prod-euc1-platform", "prod-euc1-platform-2", "prod-euc1-platform-3"}
