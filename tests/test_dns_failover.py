"""The Route 53 side of failover: health check + PRIMARY record, SECONDARY record on the standby."""

import pulumi
import pulumi_aws as aws
import pytest

from components.failover.dns_failover import DnsFailover, DnsFailoverArgs
from devkit.mocks import run_program

ZONE_ID = "Z0123456789EXAMPLE"
RECORD = "api.example.com"
PRIMARY_ALB = "prod-alb-1234567890.eu-central-1.elb.amazonaws.com"
STANDBY_ALB = "prod-euw1-alb-987654321.eu-west-1.elb.amazonaws.com"


def _primary_args(**overrides):
    values = dict(role="primary", region="eu-central-1", hosted_zone_id=ZONE_ID, record_name=RECORD,
                  alb_dns_name=PRIMARY_ALB, alb_zone_id="Z215JYRZR1TBD5", health_check_path="/api/auth/health",
                  health_check_request_interval_seconds=10, health_check_failure_threshold=3,
                  health_checker_regions=("eu-west-1", "us-east-1", "us-west-2"), tags={"environment": "prod"})
    values.update(overrides)
    return DnsFailoverArgs(**values)


def _run_primary(args):
    def program():
        provider = aws.Provider("euc1", region="eu-central-1")
        failover = DnsFailover("api", args, pulumi.ResourceOptions(provider=provider))
        return {"fqdn": failover.record_fqdn, "healthCheckId": failover.health_check_id,
                "setIdentifier": failover.set_identifier}
    return run_program(program, project="microservices-foundation", stack="prod", region="eu-central-1")


def test_primary_health_check_probes_the_alb_health_endpoint_over_https_every_ten_seconds():
    recorder, _ = _run_primary(_primary_args(health_check_path="/healthz"))

    check = recorder.one("aws:route53/healthCheck:HealthCheck").inputs
    assert check["type"] == "HTTPS"
    assert check["port"] == 443
    assert check["fqdn"] == PRIMARY_ALB  # the ALB's own name, not the failover record's
    assert check["resourcePath"] == "/healthz"
    assert check["requestInterval"] == 10
    assert check["failureThreshold"] == 3
    assert check["enableSni"] is True
    assert sorted(check["regions"]) == ["eu-west-1", "us-east-1", "us-west-2"]
    assert check["tags"] == {"environment": "prod", "Name": "api-primary-alb-eu-central-1"}


def test_primary_record_is_a_health_checked_primary_failover_alias_to_the_alb():
    recorder, outputs = _run_primary(_primary_args())

    check = recorder.one("aws:route53/healthCheck:HealthCheck")
    record = recorder.one("aws:route53/record:Record").inputs
    assert record["zoneId"] == ZONE_ID and record["name"] == RECORD and record["type"] == "A"
    assert record["failoverRoutingPolicies"] == [{"type": "PRIMARY"}]
    assert record["setIdentifier"] == "primary-eu-central-1"
    assert record["aliases"] == [{"name": PRIMARY_ALB, "zoneId": "Z215JYRZR1TBD5", "evaluateTargetHealth": False}]
    assert record["healthCheckId"] == check.outputs["id"]
    assert "ttl" not in record  # alias records take Route 53's fixed TTL
    assert outputs == {"fqdn": RECORD, "healthCheckId": check.outputs["id"], "setIdentifier": "primary-eu-central-1"}


def test_children_hang_under_the_component_and_use_its_provider():
    recorder, _ = _run_primary(_primary_args())

    component = recorder.one("microservices:platform:DnsFailover", "api")
    children = recorder.children_of(component.urn)
    assert sorted(c.type for c in children) == ["aws:route53/healthCheck:HealthCheck", "aws:route53/record:Record"]
    assert {c.provider_region for c in children} == {"eu-central-1"}


def test_standby_creates_only_a_secondary_alias_in_the_primary_zone_through_its_own_eu_west_1_provider():
    def program():
        # The standby stack's only provider: eu-west-1, even though Route 53 is global.
        provider = aws.Provider("euw1", region="eu-west-1")
        failover = DnsFailover("api", _primary_args(
            role="standby", region="eu-west-1", alb_dns_name=STANDBY_ALB, alb_zone_id="Z32O12XQLNTSW2"),
            pulumi.ResourceOptions(provider=provider))
        return {"healthCheckId": failover.health_check_id, "setIdentifier": failover.set_identifier}

    recorder, outputs = run_program(program, project="microservices-foundation", stack="prod-euw1",
                                    region="eu-central-1")  # a wrong default region must not leak in

    assert recorder.of_type("aws:route53/healthCheck:HealthCheck") == []
    record = recorder.one("aws:route53/record:Record")
    assert record.provider_region == "eu-west-1"
    assert record.inputs["failoverRoutingPolicies"] == [{"type": "SECONDARY"}]
    assert record.inputs["setIdentifier"] == "standby-eu-west-1"
    assert record.inputs["zoneId"] == ZONE_ID and record.inputs["name"] == RECORD
    assert record.inputs["aliases"][0]["name"] == STANDBY_ALB
    assert "healthCheckId" not in record.inputs
    assert outputs["healthCheckId"] is None


def test_health_check_on_the_failover_record_name_itself_is_refused():
    # The check probes the ALB's own name; an ALB name equal to the record (a wiring mistake) is refused.
    with pytest.raises(ValueError, match="must not target the failover record's own name"):
        _primary_args(alb_dns_name="API.example.com.")


def test_route53_settings_have_no_component_defaults():
    # Path, timing and checker regions come from foundation/settings.py only (the old "/health" default
    # differed from the product's "/api/auth/health").
    values = dict(role="primary", region="eu-central-1", hosted_zone_id=ZONE_ID, record_name=RECORD,
                  alb_dns_name=PRIMARY_ALB, alb_zone_id="Z215JYRZR1TBD5")
    with pytest.raises(TypeError, match="health_check_path"):
        DnsFailoverArgs(**values)


@pytest.mark.parametrize("overrides, message", [
    (dict(health_check_request_interval_seconds=15), "request interval"),
    (dict(health_check_failure_threshold=11), "failure threshold"),
    (dict(health_checker_regions=("eu-west-1", "us-east-1")), "at least 3"),
    (dict(health_checker_regions=("eu-west-1", "us-east-1", "eu-central-1")), "not Route 53 checker regions"),
    (dict(health_check_path="health"), "health_check_path"),
    (dict(role="secondary"), "role"),
])
def test_args_route53_would_reject_are_refused_before_deployment(overrides, message):
    with pytest.raises(ValueError, match=message):
        _primary_args(**overrides)


def test_failover_never_evaluates_target_health_because_idle_blue_green_groups_are_empty(prod, prod_standby):
    # An empty alternate target group would count as unhealthy and flip the record; only the health check decides.
    records = [r for p in (prod, prod_standby) for r in p.recorder.of_type("aws:route53/record:Record")
               if r.inputs.get("failoverRoutingPolicies")]
    assert {r.inputs["failoverRoutingPolicies"][0]["type"] for r in records} == {"PRIMARY", "SECONDARY"}
    assert all(alias["evaluateTargetHealth"] is False for r in records for alias in r.inputs["aliases"])
