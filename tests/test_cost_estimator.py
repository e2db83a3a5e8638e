"""The estimator against a hand calculation, and the rules it applies to what a stack registers."""

from __future__ import annotations

import copy

import pytest

from devkit.cost_reference import hand_calculation, reference_records
from policies.cost.assumptions import UsageAssumptions
from policies.cost.estimator import estimate, resources_from_records, split_tasks
from policies.cost.prices import load_prices

PRICES = load_prices()
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def _estimate(records, usage=None):
    return estimate(resources_from_records(records), PRICES, usage, default_region="eu-central-1")


def _with(records, name, **inputs):
    records = copy.deepcopy(records)
    record = next(r for r in records if r["name"] == name and not r["type"].startswith("microservices:"))
    record["inputs"].update(inputs)
    return records


@pytest.mark.parametrize("usage", [UsageAssumptions(), UsageAssumptions(average_task_fraction=1, nat_gb_per_month=400,
                                                                         alb_lcu=3, log_gb_per_service=20)])
def test_reference_stack_matches_the_hand_calculation(usage):
    hand = sum(line.usd for line in hand_calculation(PRICES, usage))
    result = _estimate(reference_records(), usage)
    assert result.unpriced == ()
    assert result.total_usd == pytest.approx(hand, rel=1e-9)
    assert result.total_eur == pytest.approx(hand / PRICES.currency.eur_to_usd, rel=1e-9)


def test_costs_are_attributed_to_components_and_services_by_parent_chain():
    result = _estimate(reference_records())
    components = result.by_component()
    assert set(components) == {"RegionalPlatform ref-platform", "MeshService ref-api"}
    assert set(result.by_service()) == {"api"}
    assert result.by_service()["api"] == pytest.approx(components["MeshService ref-api"])
    assert sum(components.values()) == pytest.approx(result.total_eur)


def test_top_drivers_are_sorted_and_name_the_service():
    drivers = _estimate(reference_records()).top_drivers(3)
    assert drivers[0][0] == "Fargate tasks (api)"
    assert [eur for _, eur in drivers] == sorted((eur for _, eur in drivers), reverse=True)


def test_strategy_base_goes_first_then_weights_split_the_rest():
    strategy = [{"capacityProvider": "FARGATE", "base": 2, "weight": 1},
                {"capacityProvider": "FARGATE_SPOT", "base": 0, "weight": 3}]
    assert split_tasks(6, strategy) == pytest.approx((3, 3))
    assert split_tasks(1.5, strategy) == pytest.approx((1.5, 0))


def test_arm64_tasks_run_their_spot_share_on_fargate_spot_at_the_arm_spot_rate():
    # ECS API reference: FARGATE_SPOT supports Linux ARM64 tasks on platform version 1.4.0 or later.
    arm = _with(reference_records(), "ref-api-taskdef",
                runtimePlatform={"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"})
    result = _estimate(arm)
    fargate = [i for i in result.items if i.driver == "Fargate tasks (api)"]
    assert [i.basis.split(" of ")[0] for i in fargate] == ["1.25 on-demand", "0.25 Spot"]
    region = PRICES.regions["eu-central-1"]
    spot = 0.25 * (region.fargate_spot_arm_vcpu_hour.usd + 2 * region.fargate_spot_arm_gb_hour.usd) * 730
    assert fargate[1].usd == pytest.approx(spot)
    assert not result.notes


def test_windows_tasks_pay_the_windows_rate_and_license_and_never_run_on_spot():
    windows = _with(reference_records(), "ref-api-taskdef",
                    runtimePlatform={"cpuArchitecture": "X86_64", "operatingSystemFamily": "WINDOWS_SERVER_2022_CORE"})
    result = _estimate(windows)
    region = PRICES.regions["eu-central-1"]
    per_task = (region.fargate_windows_vcpu_hour.usd + region.fargate_windows_license_vcpu_hour.usd
                + 2 * region.fargate_windows_gb_hour.usd) * 730
    fargate = sum(i.usd for i in result.items if i.driver == "Fargate tasks (api)")
    assert fargate == pytest.approx(1.5 * per_task)
    assert any("Windows tasks cannot run on FARGATE_SPOT" in note for note in result.notes)


def test_linux_tasks_are_not_charged_windows_rates():
    linux = _estimate(reference_records())
    assert not linux.notes and "WINDOWS" not in " ".join(i.basis for i in linux.items)


def test_ephemeral_storage_above_20_gib_is_priced_per_task_hour():
    records = reference_records()
    big = _with(records, "ref-api-taskdef", ephemeralStorage={"sizeInGib": 120})
    added = _estimate(big).by_service()["api"] - _estimate(records).by_service()["api"]
    rate = PRICES.regions["eu-central-1"].fargate_ephemeral_storage_gb_hour.usd
    assert added * PRICES.currency.eur_to_usd == pytest.approx(1.5 * 100 * rate * 730)


def test_20_gib_of_ephemeral_storage_is_included():
    records = reference_records()
    included = _with(records, "ref-api-taskdef", ephemeralStorage={"sizeInGib": 20})
    assert _estimate(included).total_usd == pytest.approx(_estimate(records).total_usd)


def _two_clusters(max_b: int) -> list[dict]:
    records = copy.deepcopy(reference_records())
    service = next(r for r in records if r["name"] == "ref-api-service")
    target = next(r for r in records if r["type"] == "aws:appautoscaling/target:Target")
    service["inputs"].update(name="api", cluster="arn:aws:ecs:eu-central-1:1:cluster/a")
    target["inputs"].update(resourceId="service/a/api")
    twin = copy.deepcopy(service)
    twin.update(urn=service["urn"] + "-b", name="ref-api-service-b")
    twin["inputs"]["cluster"] = "arn:aws:ecs:eu-central-1:1:cluster/b"
    twin_target = copy.deepcopy(target)
    twin_target.update(urn=target["urn"] + "-b", name="ref-api-scaling-b")
    twin_target["inputs"].update(resourceId="service/b/api", minCapacity=max_b, maxCapacity=max_b)
    return [*records, twin, twin_target]


def test_the_same_service_name_in_two_clusters_is_priced_twice_each_by_its_own_target():
    result = _estimate(_two_clusters(max_b=10))
    bases = sorted(i.basis for i in result.items if i.driver == "Fargate tasks (api)" and "on-demand" in i.basis)
    assert len(bases) == 2 and any("10+" in b for b in bases) and any("1+" in b for b in bases)


def test_one_service_per_cluster_name_keeps_its_own_target():
    result = _estimate(_two_clusters(max_b=1))
    assert len([i for i in result.items if i.driver == "Fargate tasks (api)" and "on-demand" in i.basis]) == 2


def test_more_spot_weight_lowers_the_x86_compute_cost():
    records = reference_records()
    spot_heavy = _with(records, "ref-api-service", capacityProviderStrategies=[
        {"capacityProvider": "FARGATE", "base": 0, "weight": 1}, {"capacityProvider": "FARGATE_SPOT", "weight": 3}])
    assert _estimate(spot_heavy).by_service()["api"] < _estimate(records).by_service()["api"]


def test_interface_endpoints_cost_per_subnet_and_gateway_endpoints_nothing():
    records = reference_records()
    one_az = _with(records, "ref-logs", subnetIds=["subnet-a"])
    saved = _estimate(records).total_usd - _estimate(one_az).total_usd
    assert saved == pytest.approx(PRICES.hours_per_month * PRICES.regions["eu-central-1"].interface_endpoint_az_hour.usd)
    assert not [i for i in _estimate(records).items if "ref-s3" in i.resource]


def test_internal_alb_has_no_public_ipv4_charge():
    internal = _with(reference_records(), "ref-alb", internal=True)
    assert not [i for i in _estimate(internal).items if i.driver == "public IPv4 addresses" and "ref-alb" in i.resource]


def test_service_connect_tls_adds_certificates_and_the_key_secret():
    tls = _with(reference_records(), "ref-api-service", serviceConnectConfiguration={
        "enabled": True, "services": [{"portName": "http", "tls": {"issuerCertAuthority": {"awsPcaAuthorityArn": "x"}}}]})
    items = [i for i in _estimate(tls).items if i.driver == "Service Connect TLS"]
    price = PRICES.regions["eu-central-1"]
    expected = UsageAssumptions().tls_certificates_per_service * price.private_ca_short_lived_certificate.usd \
        + price.secrets_manager_secret_month.usd
    assert sum(i.usd for i in items) == pytest.approx(expected)


def test_a_type_that_costs_money_but_has_no_price_model_is_listed_as_unpriced():
    records = reference_records() + [{"urn": "urn:pulumi:ref::p::aws:ec2/instance:Instance::vm",
                                       "type": "aws:ec2/instance:Instance", "name": "vm", "parent": None,
                                       "providerRegion": "eu-central-1", "inputs": {}}]
    assert any("aws:ec2/instance:Instance 'vm'" in u for u in _estimate(records).unpriced)


def test_a_region_without_prices_is_listed_as_unpriced_not_zero():
    records = [dict(r, providerRegion="ap-south-1") if r["type"] == "aws:kms/key:Key" else r
               for r in reference_records()]
    assert any("no prices for region ap-south-1" in u for u in _estimate(records).unpriced)


def test_the_failover_alarm_key_and_topic_in_us_east_1_are_priced():
    records = [dict(r, providerRegion="us-east-1") if r["type"] == "aws:kms/key:Key" else r
               for r in reference_records()]
    assert _estimate(records).unpriced == ()


def test_unknown_task_size_leaves_the_service_unpriced():
    unknown = _with(reference_records(), "ref-api-taskdef", cpu="04da6b54-80e4-46f7-96ec-b56ff0331ba9")
    result = _estimate(unknown)
    assert "Fargate tasks (api)" not in result.by_driver()
    assert any("task cpu/memory unknown" in u for u in result.unpriced)


def test_on_demand_dynamodb_aurora_sqs_and_events_are_priced():
    region = PRICES.regions["eu-central-1"]
    extra = [
        {"type": "aws:dynamodb/table:Table", "name": "t", "inputs": {"billingMode": "PAY_PER_REQUEST",
                                                                  "pointInTimeRecovery": {"enabled": True}}},
        {"type": "aws:rds/cluster:Cluster", "name": "db", "inputs": {
            "clusterIdentifier": "db", "serverlessv2ScalingConfiguration": {"minCapacity": 0.5, "maxCapacity": 4}}},
        {"type": "aws:rds/clusterInstance:ClusterInstance", "name": "db-1",
         "inputs": {"clusterIdentifier": "db", "instanceClass": "db.serverless"}},
        {"type": "aws:sqs/queue:Queue", "name": "q", "inputs": {}},
        {"type": "aws:cloudwatch/eventBus:EventBus", "name": "bus", "inputs": {}},
    ]
    records = [dict(r, urn=f"urn:pulumi:ref::p::{r['type']}::{r['name']}", parent=None,
                    providerRegion="eu-central-1") for r in extra]
    result = _estimate(records, UsageAssumptions(requests_per_month=1e6))
    drivers = result.by_driver()
    acu = 0.5 * region.aurora_serverless_v2_acu_hour.usd * PRICES.hours_per_month
    assert drivers["SQS"] == pytest.approx(region.sqs_standard_million.usd / PRICES.currency.eur_to_usd)
    assert drivers["EventBridge"] == pytest.approx(region.event_bridge_events_million.usd / PRICES.currency.eur_to_usd)
    assert drivers["Aurora"] * PRICES.currency.eur_to_usd > acu
    assert [i for i in result.items if "PITR" in i.basis]


@pytest.mark.parametrize("with_reader", [True, False])
def test_a_headless_secondary_pays_storage_and_only_the_rehearsal_hours_of_a_reader(with_reader):
    region = PRICES.regions["eu-west-1"]
    parent = "urn:pulumi:ref::p::microservices:data:ServiceDatabase::db"
    extra = [{"type": "aws:rds/cluster:Cluster", "name": "db-cluster", "inputs": {
        "clusterIdentifier": "db", "globalClusterIdentifier": "db",
        "serverlessv2ScalingConfiguration": {"minCapacity": 0.5, "maxCapacity": 4}}}]
    if with_reader:
        extra.append({"type": "aws:rds/clusterInstance:ClusterInstance", "name": "db-writer",
                      "inputs": {"clusterIdentifier": "db", "instanceClass": "db.serverless"}})
    records = [dict(r, urn=f"urn:pulumi:ref::p::{r['type']}::{r['name']}", parent=parent,
                    providerRegion="eu-west-1") for r in extra]
    usage = UsageAssumptions(database_rehearsal_hours_per_month=8)
    aurora = sum(i.usd for i in estimate(resources_from_records(records), PRICES, usage,
                                         default_region="eu-west-1").items if i.driver == "Aurora")
    storage = (usage.aurora_storage_gb * region.aurora_storage_gb_month.usd
               + usage.aurora_io_millions * region.aurora_io_million.usd)
    hours = PRICES.hours_per_month if with_reader else 8
    assert aurora == pytest.approx(storage + 0.5 * region.aurora_serverless_v2_acu_hour.usd * hours)


@pytest.mark.parametrize("mode, priced", [("disabled", False), ("enabled", True), ("enhanced", True)])
def test_container_insights_metrics_are_priced_per_cluster_and_service_when_on(mode, priced):
    cluster = {"urn": "urn:pulumi:ref::p::aws:ecs/cluster:Cluster::ref", "type": "aws:ecs/cluster:Cluster",
               "name": "ref", "parent": None, "providerRegion": "eu-central-1",
               "inputs": {"name": "ref", "settings": [{"name": "containerInsights", "value": mode}]}}
    result = _estimate(reference_records() + [cluster])
    usage, metric = UsageAssumptions(), PRICES.regions["eu-central-1"].cloudwatch_custom_metric_month.usd
    expected = (usage.container_insights_metrics_per_cluster + usage.container_insights_metrics_per_service) * metric
    insights = sum(i.usd for i in result.items if i.driver == "Container Insights" and "metrics" in i.basis)
    assert insights == pytest.approx(expected if priced else 0)
    assert any("lower bound" in note for note in result.notes) == (mode == "enhanced")


@pytest.mark.parametrize("fqdn, aws", [("prod-1.eu-central-1.elb.amazonaws.com", True),
                                       ("04da6b54-80e4-46f7-96ec-b56ff0331ba9", True), ("status.example.com", False)])
def test_health_checks_are_priced_by_endpoint_kind_and_options(fqdn, aws):
    check = {"urn": "urn:pulumi:ref::p::aws:route53/healthCheck:HealthCheck::hc", "type": "aws:route53/healthCheck:HealthCheck",
             "name": "hc", "parent": None, "providerRegion": "eu-central-1",
             "inputs": {"type": "HTTPS", "fqdn": fqdn, "requestInterval": 10}}
    price = PRICES.regions["eu-central-1"]
    base, option = ((price.route53_health_check_aws_month, price.route53_health_check_option_aws_month) if aws else
                    (price.route53_health_check_non_aws_month, price.route53_health_check_option_non_aws_month))
    assert _estimate([check]).total_usd == pytest.approx(base.usd + 2 * option.usd)  # HTTPS + fast interval


def test_indexed_lookups_find_what_scanning_every_resource_found(prod, monkeypatch):
    from policies.cost.pricing import Context

    scans = {
        "with_input": lambda ctx, type_, key, value: [r for r in ctx.by_type.get(type_, []) if r.inputs.get(key) == value],
        "siblings": lambda ctx, resource, type_: [r for r in ctx.by_type.get(type_, []) if r.parent == resource.parent],
        "ancestors": Context._walk_up,
    }
    looked_up: list[tuple[str, list, list]] = []

    def checked(name, indexed, scan):
        def lookup(ctx, *args):
            found = indexed(ctx, *args)
            looked_up.append((name, found, scan(ctx, *args)))
            return found
        return lookup

    for name, scan in scans.items():
        monkeypatch.setattr(Context, name, checked(name, getattr(Context, name), scan))
    result = _estimate([record.to_json() for record in prod.recorder.resources])
    assert [i for i in result.items if i.driver.startswith("Fargate tasks")] and result.by_service()
    unnamed = copy.deepcopy(reference_records())  # services that name neither: found as siblings
    for record in unnamed:
        if record["type"] == "aws:ecs/service:Service":
            record["inputs"].update(name=UNKNOWN, taskDefinition=UNKNOWN)
    assert [i for i in _estimate(unnamed).items if i.driver.startswith("Fargate tasks")]
    for name in scans:
        assert any(found for kind, found, _ in looked_up if kind == name), f"{name} never found anything"
    assert all(found == scanned for _, found, scanned in looked_up)
