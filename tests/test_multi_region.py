"""The primary/standby wiring of the four stacks, read from their offline previews."""

from __future__ import annotations

import json

import pytest
import yaml

from components.data.spec import PostgresData
from foundation.settings import ConfigError, check_across_stacks, load_catalog, read_stack_file, settings_from_config
from tests.test_settings import _copy_project

NS = "microservices-foundation"
RECORD = "aws:route53/record:Record"


def failover_records(preview):
    return [r for r in preview.recorder.of_type(RECORD) if r.inputs.get("failoverRoutingPolicies")]


@pytest.fixture(params=["staging_standby", "prod_standby"])
def standby(request):
    return request.getfixturevalue(request.param)


def test_a_standby_never_touches_an_eu_central_1_provider(standby):
    providers = standby.recorder.of_type("pulumi:providers:aws")
    assert [p.inputs["region"] for p in providers] == ["eu-west-1"]
    regions = {r.provider_region for r in standby.recorder.resources if r.type.startswith("aws:")}
    assert regions == {"eu-west-1"}


def test_a_standby_reads_its_primary_through_one_stack_reference(standby):
    references = standby.recorder.of_type("pulumi:pulumi:StackReference")
    assert len(references) == 1
    assert references[0].inputs["name"] == standby.settings.config.failover.primary_stack


def test_standby_tasks_get_the_secret_replicas_in_their_own_region(prod_standby):
    primary_arns = prod_standby.primary.outputs["secretArns"]
    standby_arns = prod_standby.outputs["secretArns"]
    assert set(standby_arns) == set(primary_arns) and standby_arns
    for key, arn in primary_arns.items():
        assert ":eu-central-1:" in arn
        assert standby_arns[key] == arn.replace(":eu-central-1:", ":eu-west-1:")


def test_primary_secrets_replicate_to_eu_west_1(prod):
    secrets = prod.recorder.of_type("aws:secretsmanager/secret:Secret")
    declared = {f"prod/{s.name}/{secret}" for s in prod.settings.services for secret in s.secrets}
    # A global database's primary writes its master credential itself (components/data/database.py).
    declared |= {f"prod/{s.name}/db-master" for s in prod.settings.services
                 if isinstance(prod.settings.data_and_events[s.name].data, PostgresData)}
    assert {s.inputs["name"] for s in secrets} == declared
    for secret in secrets:
        assert secret.inputs["replicas"] == [{"region": "eu-west-1", "kmsKeyId": "alias/aws/secretsmanager"}]
        assert secret.inputs["kmsKeyId"] == prod.recorder.one("aws:kms/key:Key", "prod-eu-central-1-key").outputs["arn"]


def _record_check(preview, record):
    """The calculated check a failover record follows, and its children: (readiness check, traffic gate)."""
    checks = {c.outputs["id"]: c for c in preview.recorder.of_type("aws:route53/healthCheck:HealthCheck")}
    combined = checks[record.inputs["healthCheckId"]]
    assert combined.inputs["type"] == "CALCULATED" and combined.inputs["childHealthThreshold"] == 2
    readiness, gate = (checks[child] for child in combined.inputs["childHealthchecks"])
    return readiness, gate


def test_primary_record_follows_the_readiness_of_a_data_service_and_the_plans_traffic_gate(prod):
    (record,) = failover_records(prod)
    readiness, gate = _record_check(prod, record)
    alb = prod.recorder.one("aws:lb/loadBalancer:LoadBalancer")
    assert record.inputs["failoverRoutingPolicies"] == [{"type": "PRIMARY"}]
    assert record.inputs["aliases"][0]["name"] == alb.outputs["dnsName"]
    assert record.inputs["name"] == "api.platform.example.com"
    assert readiness.inputs["type"] == "HTTPS" and readiness.inputs["port"] == 443
    assert readiness.inputs["requestInterval"] == 10 and readiness.inputs["failureThreshold"] == 3
    assert readiness.inputs["fqdn"] == alb.outputs["dnsName"] != record.inputs["name"]
    # persona owns the global database: its readiness answers 200 only where the writer is.
    assert readiness.inputs["resourcePath"] == "/api/persona/ready"
    assert len(readiness.inputs["regions"]) >= 3
    assert gate.inputs["type"] == "CALCULATED" and gate.inputs["childHealthThreshold"] == 0
    assert gate.inputs["invertHealthcheck"] is False  # the primary starts active


def test_standby_record_in_the_primarys_zone_stays_closed_until_the_plan_opens_it(prod_standby):
    (record,) = failover_records(prod_standby)
    alb = prod_standby.recorder.one("aws:lb/loadBalancer:LoadBalancer")
    assert record.inputs["failoverRoutingPolicies"] == [{"type": "SECONDARY"}]
    assert record.inputs["zoneId"] == prod_standby.primary.outputs["hostedZoneId"]
    assert record.inputs["name"] == prod_standby.primary.outputs["apiRecordName"]
    assert record.inputs["aliases"][0]["name"] == alb.outputs["dnsName"]
    readiness, gate = _record_check(prod_standby, record)
    assert readiness.inputs["fqdn"] == alb.outputs["dnsName"]
    assert readiness.inputs["resourcePath"] == "/api/persona/ready"
    assert gate.inputs["invertHealthcheck"] is True


def test_only_the_declared_owner_writes_the_account_replication_configuration(staging, prod, prod_standby):
    assert staging.recorder.of_type("aws:ecr/replicationConfiguration:ReplicationConfiguration") == []
    assert prod_standby.recorder.of_type("aws:ecr/replicationConfiguration:ReplicationConfiguration") == []
    configuration = prod.recorder.one("aws:ecr/replicationConfiguration:ReplicationConfiguration")
    rule = configuration.inputs["replicationConfiguration"]["rules"][0]
    assert rule["destinations"] == [{"region": "eu-west-1", "registryId": "123456789012"}]
    prefixes = sorted(f["filter"] for f in rule["repositoryFilters"])
    assert prefixes == ["prod/", "staging/"]


def test_the_standby_runs_every_service_repository_of_its_primary(prod, prod_standby):
    assert prod_standby.outputs["repositoryNames"] == prod.outputs["repositoryNames"]


def test_default_wiring_fails_over_within_two_minutes(prod):
    estimate = prod.settings.failover_time()
    assert estimate.detection_seconds == 30 and estimate.total_seconds == 90 <= 120


def test_a_config_that_cannot_meet_its_objective_is_an_error():
    config = dict(read_stack_file("prod").config)
    config[f"{NS}:failover"] = json.dumps({"healthCheckIntervalSeconds": 30, "failureThreshold": 10,
                                          "rtoObjectiveMinutes": 2})
    with pytest.raises(ConfigError, match=r"failover takes about detection 300 s \+ DNS TTL 60 s = 360 s"):
        settings_from_config("prod", config, load_catalog())


def test_two_replication_owners_in_one_account_are_refused(tmp_path):
    project = _copy_project(tmp_path)
    stack_file = project / "Pulumi.staging.yaml"
    document = yaml.safe_load(stack_file.read_text())
    document["config"][f"{NS}:registryReplication"] = {"owner": True, "repositoryPrefixes": ["staging/"]}
    stack_file.write_text(yaml.safe_dump(document))
    settings = settings_from_config("prod", read_stack_file("prod", project).config,
                                    load_catalog(project / "platform" / "services.yaml"))
    with pytest.raises(ConfigError, match=r"stacks \['prod', 'staging'\] all own the ECR replication configuration"):
        check_across_stacks(settings, project)


def _edit_stack(project, stack, edit):
    stack_file = project / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(stack_file.read_text())
    edit(document["config"])
    stack_file.write_text(yaml.safe_dump(document))


def _standby_settings(project, stack="prod-euw1"):
    return settings_from_config(stack, read_stack_file(stack, project).config,
                                load_catalog(project / "platform" / "services.yaml"))


def test_a_standby_cannot_run_a_service_its_primary_does_not(tmp_path):
    project = _copy_project(tmp_path)

    def drop_billing(config):
        services = config[f"{NS}:services"]
        services["enabled"].remove("billing")
        del services["overrides"]["billing"]

    _edit_stack(project, "prod", drop_billing)
    with pytest.raises(ConfigError, match=r"runs \['billing'\], which the primary 'prod' does not run"):
        check_across_stacks(_standby_settings(project), project)


def test_a_standby_must_serve_the_primarys_api_name(tmp_path):
    project = _copy_project(tmp_path)
    _edit_stack(project, "prod-euw1", lambda config: config[f"{NS}:dns"].update(domain="other.example.com"))
    with pytest.raises(ConfigError, match=r"must equal the primary's dns"):
        check_across_stacks(_standby_settings(project), project)


def test_a_standby_must_point_at_its_own_environments_primary(tmp_path):
    project = _copy_project(tmp_path)
    _edit_stack(project, "staging-euw1",
                lambda config: config[f"{NS}:failover"].update(primaryStack="acme/microservices-foundation/prod"))
    with pytest.raises(ConfigError, match=r"names 'prod', a prod primary stack; it must be the staging primary"):
        check_across_stacks(_standby_settings(project, "staging-euw1"), project)


def test_the_health_check_path_defaults_to_the_readiness_of_the_routed_service_with_a_database(prod, staging):
    persona = prod.settings.service("persona")
    assert prod.settings.config.failover.health_check_path == f"{persona.path_prefix}/ready"
    assert staging.settings.config.failover.health_check_path == "/api/persona/ready"


def test_without_a_routed_service_with_data_the_health_check_path_is_the_first_health_route():
    from foundation.settings.stack_settings import resolve_health_check_path

    settings = settings_from_config("prod", dict(read_stack_file("prod").config), load_catalog())
    auth = settings.service("auth")
    assert resolve_health_check_path("prod", settings.config.failover.model_copy(update={"health_check_path": None}),
                                     settings.services, f"{NS}:", {}) == f"{auth.path_prefix}{auth.health_path}"


def test_a_health_check_path_no_service_serves_is_refused():
    config = dict(read_stack_file("prod").config)
    config[f"{NS}:failover"] = json.dumps({"healthCheckPath": "/healthz"})
    with pytest.raises(ConfigError, match=r"failover.healthCheckPath = '/healthz' is not allowed: it must be under"):
        settings_from_config("prod", config, load_catalog())


def test_cross_stack_errors_say_which_stacks_could_not_be_compared(tmp_path):
    project = _copy_project(tmp_path)
    _edit_stack(project, "staging", lambda config: config.update({f"{NS}:netwrok": {}}))
    _edit_stack(project, "prod", lambda config: config[f"{NS}:registryReplication"].update(owner=False))
    with pytest.raises(ConfigError, match=r"not compared: \['staging'\], whose own config is invalid"):
        check_across_stacks(_standby_settings(project), project)


def test_a_pair_replicates_its_data_in_both_stacks_or_in_neither(tmp_path):
    project = _copy_project(tmp_path)
    _edit_stack(project, "staging", lambda config: config[f"{NS}:failover"].update(replicateData=False))
    with pytest.raises(ConfigError, match=r"failover\.replicateData is True here and False in the primary 'staging'"):
        check_across_stacks(_standby_settings(project, "staging-euw1"), project)
