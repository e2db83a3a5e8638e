"""The AWS quota model: the table, per-account overrides, each stack's usage, and that usage matching
what the program registers."""

from __future__ import annotations

import functools
from collections import Counter

import pytest

from devkit.synthetic import enable_all, synthetic_catalog
from foundation.settings import PROJECT_DIR, Catalog, ConfigError, read_stack_file, settings_from_config
from foundation.settings.quotas import (
    database_services,
    effective_limits,
    load_quota_table,
    quota_problems,
    security_group_rules,
    security_groups_per_task,
)

KEY = "microservices-foundation"


@functools.cache
def _catalog(n: int) -> tuple[dict, Catalog]:
    raw = synthetic_catalog(n)
    return raw, Catalog.model_validate(raw)


def _settings(stack: str = "prod", n: int = 200, **config):
    raw, catalog = _catalog(n)
    stack_config = enable_all(read_stack_file(stack, PROJECT_DIR).config, raw)
    stack_config |= {f"{KEY}:{key}": value for key, value in config.items()}
    return settings_from_config(stack, stack_config, catalog)


def test_every_quota_row_cites_an_aws_page_and_adjustability():
    table = load_quota_table()
    for key, quota in table.quotas.items():
        assert quota.source.startswith("https://docs.aws.amazon.com/"), key
    assert not table.quota("targetGroupsPerAlb").adjustable
    assert table.quota("securityGroupsPerNetworkInterface").maximum == 16


def test_overriding_a_non_adjustable_quota_is_a_config_error_naming_it():
    with pytest.raises(ConfigError, match=r"quotas\.targetGroupsPerAlb = 200 is not allowed: 'Target Groups per "
                                          r"Application Load Balancer' \(100\) is not adjustable"):
        effective_limits("prod", f"{KEY}:", {"targetGroupsPerAlb": 200})


def test_unknown_quota_and_raise_above_aws_maximum_are_refused():
    with pytest.raises(ConfigError, match=r"quotas\.targetsPerLoadBalancer .* not a quota of platform/quotas.yaml"):
        effective_limits("prod", f"{KEY}:", {"targetsPerLoadBalancer": 2000})
    with pytest.raises(ConfigError, match="at most 16"):
        effective_limits("prod", f"{KEY}:", {"securityGroupsPerNetworkInterface": 20})


def test_security_group_rule_and_group_quotas_cannot_multiply_past_1000():
    with pytest.raises(ConfigError, match=r"rulesPerSecurityGroup \(100\) × securityGroupsPerNetworkInterface "
                                          r"\(16\) = 1600"):
        effective_limits("prod", f"{KEY}:", {"rulesPerSecurityGroup": 100, "securityGroupsPerNetworkInterface": 16})
    assert effective_limits("prod", f"{KEY}:", {"targetsPerAlb": 2000})["targetsPerAlb"] == 2000


def test_forcing_one_load_balancer_for_100_routed_services_fails_naming_the_target_group_quota():
    with pytest.raises(ConfigError) as error:
        _settings(loadBalancers={"maxRoutedServicesPerAlb": 100})
    message = str(error.value)
    assert ("AWS quota 'Target Groups per Application Load Balancer' (targetGroupsPerAlb, not adjustable) exceeded "
            "in load balancer prod-euc1-platform: 200 needed, limit 100") in message
    assert "lower microservices-foundation:loadBalancers.maxRoutedServicesPerAlb (now 100)" in message


def test_targets_per_load_balancer_count_every_task_at_max_plus_one_deployment_and_yield_to_an_override():
    raw, _ = _catalog(200)
    raw = {"services": {name: spec | ({"maxTasks": 30} if spec.get("pathPrefix") else {})
                        for name, spec in raw["services"].items()}}
    catalog = Catalog.model_validate(raw)
    config = enable_all(read_stack_file("prod", PROJECT_DIR).config, raw)
    config[f"{KEY}:quotas"] = {"targetsPerAlb": 1400, "cloudMapInstancesPerNamespace": 5000}
    settings = settings_from_config("prod", config, catalog)  # within the raised quotas
    without_override = settings.model_copy(update={"config": settings.config.model_copy(update={"quotas": {}})})
    problems = "\n".join(quota_problems(without_override))
    # 45 routed services × 30 tasks + 30 for the deployment in flight = 1,380 targets on the first ALB.
    assert ("'Targets per Application Load Balancer' (targetsPerAlb, adjustable) exceeded in load balancer "
            "prod-euc1-platform: 1380 needed, limit 1000") in problems
    assert "'Instances per namespace' (cloudMapInstancesPerNamespace, adjustable)" in problems


def test_the_model_counts_the_security_group_rules_the_program_registers(prod):
    """The usage model and the program agree: per service group, the ingress and egress rules registered."""
    recorder, settings = prod.recorder, prod.settings
    # Task groups only: a service's database has its own group (tagged with the service, named `...-db`).
    groups = {r.outputs["id"]: r.inputs["tags"]["service"]
              for r in recorder.of_type("aws:ec2/securityGroup:SecurityGroup")
              if "service" in r.inputs["tags"] and not r.inputs["tags"]["Name"].endswith("-db")}
    ingress = Counter(groups.get(r.inputs["securityGroupId"])
                      for r in recorder.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"))
    egress = Counter(groups.get(r.inputs["securityGroupId"])
                     for r in recorder.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"))
    registered = {name: (ingress[name], egress[name]) for name in groups.values()}
    assert registered == security_group_rules(settings.services, has_nat=True,
                                              database_services=database_services(settings))
    assert database_services(settings) == {"persona"}
    worn = {t.inputs["name"]: len(t.inputs["networkConfiguration"]["securityGroups"])
            for t in recorder.of_type("aws:ecs/service:Service")}
    assert worn == {s.name: security_groups_per_task(s) for s in settings.services}


def test_200_services_half_routed_fit_the_default_quotas_on_three_load_balancers_in_both_regions():
    for stack in ("prod", "prod-euw1"):
        settings = _settings(stack)
        assert [len(shard) for shard in settings.alb_shards] == [45, 45, 10]
        assert quota_problems(settings) == []


def test_the_model_counts_the_target_groups_and_rules_on_the_load_balancer(prod):
    recorder, settings = prod.recorder, prod.settings
    routed = sum(1 for s in settings.services if s.routed)
    assert len(recorder.of_type("aws:lb/targetGroup:TargetGroup")) == 2 * routed
    assert len(recorder.of_type("aws:lb/listenerRule:ListenerRule")) == routed
    assert [len(shard) for shard in settings.alb_shards] == [routed]
