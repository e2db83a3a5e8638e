"""The levers table and the one-more-service figure, over a fake "run the program" callable."""

from __future__ import annotations

import copy
import json

import pytest

from devkit.cost_levers import Lever, apply_overrides, lever_table, one_more_service, standard_levers, standby_levers
from devkit.cost_reference import reference_records
from policies.cost.prices import load_prices

PRICES = load_prices()
AZ_HOUR = PRICES.regions["eu-central-1"].interface_endpoint_az_hour.usd


def fake_program(overrides):
    """Stands in for the real program: endpoint subnets follow network.endpointAzCount, an extra
    enabled service adds a copy of the reference service, and TLS off is refused like prod does."""
    if overrides.get("serviceConnect.tls") is False:
        raise ValueError("serviceConnect.tls must be true in prod")
    records = copy.deepcopy(reference_records())
    azs = overrides.get("network.endpointAzCount")
    for record in records:
        if azs and record["type"] == "aws:ec2/vpcEndpoint:VpcEndpoint" and "subnetIds" in record["inputs"]:
            record["inputs"]["subnetIds"] = [f"subnet-{i}" for i in range(azs)]
    if len(overrides.get("services.enabled", [])) > 1:
        extra = copy.deepcopy(next(r for r in records if r["type"] == "aws:ecs/service:Service"))
        extra["urn"] += "-2"
        extra["name"] += "-2"
        records.append(extra)
    return records


def test_apply_overrides_merges_dotted_paths_into_the_wire_config():
    config = {"proj:network": json.dumps({"azCount": 2, "natStrategy": "none"}), "aws:region": "eu-central-1"}
    result = apply_overrides(config, {"network.natStrategy": "single", "services.overrides.auth.architecture": "X86_64",
                                      "tracing.enabled": False}, "proj")
    assert json.loads(result["proj:network"]) == {"azCount": 2, "natStrategy": "single"}
    assert json.loads(result["proj:services"]) == {"overrides": {"auth": {"architecture": "X86_64"}}}
    assert json.loads(result["proj:tracing"]) == {"enabled": False}
    assert result["aws:region"] == "eu-central-1" and json.loads(config["proj:network"])["natStrategy"] == "none"


def test_each_lever_row_is_the_variant_estimate_and_its_change_against_the_baseline():
    levers = [Lever("endpoint AZs", str(n), {"network.endpointAzCount": n}) for n in (1, 2, 3)]
    base, rows = lever_table(fake_program, levers, PRICES, region="eu-central-1")
    # The reference stack has two interface endpoints in two AZs.
    for row, azs in zip(rows, (1, 2, 3), strict=False):
        expected = 2 * (azs - 2) * AZ_HOUR * PRICES.hours_per_month / PRICES.currency.eur_to_usd
        assert row.delta_eur == pytest.approx(expected)
        assert row.total_eur == pytest.approx(base.total_eur + expected)


def test_a_variant_the_program_refuses_becomes_a_row_with_the_reason():
    _, rows = lever_table(fake_program, [Lever("Service Connect TLS", "off", {"serviceConnect.tls": False})], PRICES)
    assert rows[0].total_eur is None and "must be true in prod" in rows[0].error


def test_one_more_service_is_the_cost_the_extra_service_adds():
    added = one_more_service(fake_program, ["api"], "api-2", PRICES, region="eu-central-1")
    base = lever_table(fake_program, [], PRICES, region="eu-central-1")[0]
    assert added == pytest.approx(base.by_driver()["Fargate tasks (api)"])


def test_standard_levers_raise_the_az_count_for_three_endpoint_azs_and_keep_the_architecture_for_spot():
    levers = standard_levers(["auth"], az_count=2)
    three = next(item for item in levers if item.lever == "endpoint AZs" and item.option == "3")
    assert three.overrides == {"network.endpointAzCount": 3, "network.azCount": 3}
    no_nat = next(item for item in levers if item.lever == "NAT gateways" and item.option == "none")
    assert no_nat.overrides == {"network.natStrategy": "none"}
    assert not [item for item in levers if item.lever == "endpoint AZs" and item.option == "0"]
    spot = [item for item in levers if item.lever.startswith("Spot share")]
    # FARGATE_SPOT runs ARM64 and X86_64 Linux tasks: the Spot lever changes the strategy only.
    assert spot and all(set(item.overrides) == {"capacity"} for item in spot)


def test_an_on_demand_base_replaces_a_spot_base_since_ecs_allows_one_base_per_strategy():
    levers = {item.option: item for item in standard_levers(["auth"], az_count=2)
              if item.lever.startswith("on-demand base")}
    assert levers["0"].overrides == {"capacity.onDemandBase": 0}
    assert levers["1"].overrides == {"capacity.onDemandBase": 1, "capacity.spotBase": 0}
    config = apply_overrides({"p:capacity": '{"onDemandBase": 0, "spotBase": 1, "onDemandWeight": 3, "spotWeight": 1}'},
                             levers["1"].overrides, "p")
    assert json.loads(config["p:capacity"]) == {"onDemandBase": 1, "spotBase": 0, "onDemandWeight": 3, "spotWeight": 1}


def test_a_standby_lever_sets_every_services_resting_tasks():
    levers = standby_levers(["auth", "persona"])
    assert [(item.option, item.overrides) for item in levers] == [
        ("0", {"failover.standbyMinTasks": {"auth": 0, "persona": 0}}),
        ("1", {"failover.standbyMinTasks": {"auth": 1, "persona": 1}})]
