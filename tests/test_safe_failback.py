"""DNS never answers with a region whose database is not the writer: Route 53's failover choice evaluated
on the records and health checks prod and prod-euw1 register, while the registered Region switch plan runs
its steps (the traffic steps through the real handler), through an outage, a failover, the old primary's
recovery as a reader, and a failback."""

from __future__ import annotations

from typing import Any

import pytest

from components.failover import region_actions_handler as handler

CHECK = "aws:route53/healthCheck:HealthCheck"
PRIMARY, STANDBY = "eu-central-1", "eu-west-1"


class FakeRoute53:
    """The gates' Inverted flags, as GetHealthCheck / UpdateHealthCheck see them."""

    def __init__(self, inverted: dict[str, bool]) -> None:
        self.inverted = inverted

    def get_health_check(self, HealthCheckId: str) -> dict[str, Any]:
        return {"HealthCheck": {"HealthCheckConfig": {"Type": "CALCULATED", "Inverted": self.inverted[HealthCheckId]}}}

    def update_health_check(self, HealthCheckId: str, Inverted: bool) -> dict[str, Any]:
        self.inverted[HealthCheckId] = Inverted
        return {}


class World:
    """Which region is up and which holds the writer, and the health checks both stacks registered."""

    def __init__(self, prod, prod_standby) -> None:
        self.previews = {PRIMARY: prod, STANDBY: prod_standby}
        self.up = {PRIMARY: True, STANDBY: True}
        self.writer = PRIMARY
        self.checks = {c.outputs["id"]: c for p in self.previews.values() for c in p.recorder.of_type(CHECK)}
        self.albs = {p.recorder.one("aws:lb/loadBalancer:LoadBalancer").outputs["dnsName"]: region
                     for region, p in self.previews.items()}
        self.records = {region: next(r for r in p.recorder.of_type("aws:route53/record:Record")
                                     if r.inputs.get("failoverRoutingPolicies"))
                        for region, p in self.previews.items()}
        self.route53 = FakeRoute53({i: bool(c.inputs.get("invertHealthcheck")) for i, c in self.checks.items()
                                    if c.inputs["type"] == "CALCULATED" and c.inputs["childHealthThreshold"] == 0})

    def healthy(self, check_id: str) -> bool:
        check = self.checks[check_id]
        if check.inputs["type"] == "CALCULATED":
            children = sum(self.healthy(child) for child in check.inputs.get("childHealthchecks") or [])
            status = children >= check.inputs["childHealthThreshold"]
            return status != self.route53.inverted.get(check_id, False)
        # The readiness path answers 200 only where the service's database takes writes (image contract).
        region = self.albs[check.inputs["fqdn"]]
        assert check.inputs["resourcePath"].endswith("/ready")
        return self.up[region] and self.writer == region

    def answer(self) -> str:
        """Route 53 failover routing: the PRIMARY while healthy, else a healthy SECONDARY, else the PRIMARY."""
        primary, secondary = self.records[PRIMARY], self.records[STANDBY]
        assert primary.inputs["failoverRoutingPolicies"] == [{"type": "PRIMARY"}]
        if self.healthy(primary.inputs["healthCheckId"]):
            return PRIMARY
        if self.healthy(secondary.inputs["healthCheckId"]):
            return STANDBY
        return PRIMARY

    def function_env(self, arn: str) -> dict[str, str]:
        for preview in self.previews.values():
            for function in preview.recorder.of_type("aws:lambda/function:Function"):
                if function.outputs["arn"] == arn:
                    return function.inputs["environment"]["variables"]
        raise LookupError(arn)

    def run(self, workflow: dict, *, activating: str, graceful: bool, check: Any) -> None:
        deactivating = PRIMARY if activating == STANDBY else STANDBY
        regions = {"activatingRegion": activating, "deactivatingRegion": deactivating,
                   "activeRegion": activating, "inactiveRegion": deactivating}
        for step in workflow["steps"]:
            if step["executionBlockType"] == "Parallel":
                if any(s["executionBlockType"] == "AuroraGlobalDatabase" for s in step["parallelConfigs"][0]["steps"]):
                    self.writer = activating
            elif step["executionBlockType"] == "CustomActionLambda":
                (config,) = step["customActionLambdaConfigs"]
                region = regions[config["regionToRun"]]
                if not self.up[region]:
                    assert not graceful and config.get("ungracefuls") == [{"behavior": "skip"}], step["name"]
                    continue
                arn = config["lambdas"][0 if region == PRIMARY else 1]["arn"]
                env = self.function_env(arn)
                if env["REGION_ACTION"] in handler.TRAFFIC_ACTIONS:
                    handler.switch_traffic(self.route53, env["REGION_ACTION"], env["GATE_HEALTH_CHECK_ID"])
            check(step["name"])


def workflow(preview, action: str, region: str | None = None) -> dict:
    return next(w for w in preview.recorder.one("aws:arcregionswitch/plan:Plan").inputs["workflows"]
                if w["workflowTargetAction"] == action and w.get("workflowTargetRegion") == region)


@pytest.fixture
def world(prod, prod_standby) -> World:
    return World(prod, prod_standby)


def test_dns_answers_only_with_the_writer_through_outage_failover_recovery_and_failback(world, prod_standby):
    def answers_the_writer(moment: str) -> None:
        assert world.answer() == world.writer, f"after {moment}: DNS answers {world.answer()}, writer {world.writer}"

    def never_chooses_a_reader(moment: str) -> None:
        # Between the writer moving and the new gate opening both records are unhealthy, and Route 53 falls
        # back to the PRIMARY; no record is ever healthy while its region is not the writer.
        for region, record in world.records.items():
            if world.healthy(record.inputs["healthCheckId"]):
                assert region == world.writer, f"after {moment}: {region} is healthy but not the writer"

    answers_the_writer("deployment")
    world.up[PRIMARY] = False
    # Before anyone runs the plan, the standby's gate is closed: DNS keeps answering with the (dead) writer.
    answers_the_writer("the primary region failed")
    world.run(workflow(prod_standby, "activate", STANDBY), activating=STANDBY, graceful=False,
              check=never_chooses_a_reader)
    answers_the_writer("the failover")
    assert world.answer() == STANDBY
    world.up[PRIMARY] = True  # back, as a reader, with its gate still open (closing it was skipped)
    answers_the_writer("the old primary came back as a reader")
    world.run(workflow(prod_standby, "postRecovery"), activating=STANDBY, graceful=True, check=answers_the_writer)
    world.run(workflow(prod_standby, "activate", PRIMARY), activating=PRIMARY, graceful=True,
              check=never_chooses_a_reader)
    answers_the_writer("the failback")
    assert world.answer() == PRIMARY


def test_a_planned_switchover_moves_dns_with_the_writer(world, prod_standby):
    def never_chooses_a_reader(moment: str) -> None:
        healthy = [r for r, record in world.records.items() if world.healthy(record.inputs["healthCheckId"])]
        assert healthy in ([], [world.writer]), f"after {moment}: healthy {healthy}, writer {world.writer}"

    world.run(workflow(prod_standby, "activate", STANDBY), activating=STANDBY, graceful=True,
              check=never_chooses_a_reader)
    assert world.answer() == world.writer == STANDBY and not world.route53.inverted[_gate(prod_standby)]


def test_a_healthy_standby_gets_no_traffic_while_its_gate_is_closed(world, prod_standby):
    world.writer = STANDBY  # even a writer in the standby (say, a switchover by hand) does not open its gate
    world.up[PRIMARY] = False
    assert world.answer() == PRIMARY
    assert world.route53.inverted[_gate(prod_standby)] is True


def _gate(preview) -> str:
    return preview.outputs["trafficGateHealthCheckId"]
