"""Stack config is validated before any resource exists, with messages naming key, value and rule."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from foundation.settings import (
    ConfigError,
    check_across_stacks,
    list_stacks,
    load_catalog,
    read_stack_file,
    settings_from_config,
)

PROJECT_DIR = Path(__file__).resolve().parent.parent
NS = "microservices-foundation"


def staging_config(**changes) -> dict:
    """The staging stack's wire config with some keys replaced (values as Pulumi passes them)."""
    config = dict(read_stack_file("staging").config)
    for key, value in changes.items():
        config[key] = value if isinstance(value, str) else json.dumps(value)
    return config


def load(config: dict, stack: str = "staging"):
    return settings_from_config(stack, config, load_catalog())


def staging_network(**changes) -> dict:
    network = json.loads(read_stack_file("staging").config[f"{NS}:network"])
    return network | changes


@pytest.mark.parametrize("stack", ["staging", "staging-euw1", "prod", "prod-euw1"])
def test_every_committed_stack_validates(stack):
    settings = load(read_stack_file(stack).config, stack)
    check_across_stacks(settings)
    assert settings.stack == stack


def test_staging_runs_the_two_reference_services_and_prod_all_five():
    assert [s.name for s in load(read_stack_file("staging").config).services] == ["auth", "persona"]
    prod = load(read_stack_file("prod").config, "prod")
    assert sorted(s.name for s in prod.services) == ["auth", "billing", "persona", "upload", "vc-start"]


def test_project_defaults_from_pulumi_yaml_apply_when_the_stack_is_silent():
    config = read_stack_file("prod").config
    # prod sets no serviceConnect block: Pulumi.yaml's project-level value is used.
    assert json.loads(config[f"{NS}:serviceConnect"])["perRequestTimeoutSeconds"] == 3


def test_misspelled_key_is_named_in_the_error():
    config = staging_config(**{f"{NS}:netwrok": staging_network()})
    with pytest.raises(ConfigError, match=rf"unknown key {NS}:netwrok"):
        load(config)


def test_misspelled_nested_key_is_named_with_its_path():
    config = staging_config(**{f"{NS}:network": staging_network(natStrategey="single")})
    with pytest.raises(ConfigError, match=rf"unknown key {NS}:network.natStrategey"):
        load(config)


def test_bad_nat_strategy_names_value_and_allowed_values():
    config = staging_config(**{f"{NS}:network": staging_network(natStrategy="double")})
    with pytest.raises(ConfigError) as error:
        load(config)
    message = str(error.value)
    assert f"{NS}:network.natStrategy" in message and '"double"' in message
    assert "'none', 'single' or 'one-per-az'" in message


@pytest.mark.parametrize("cidr, reason", [("10.10.0.0/33", "valid IPv4 network"),
                                          ("10.10.0.0/24", "/16 to /18"),
                                          ("8.8.0.0/16", "RFC 1918"),
                                          # is_private alone would admit these: "this network" and shared space.
                                          ("0.0.0.0/16", "RFC 1918"), ("100.64.0.0/16", "RFC 1918")])
def test_bad_vpc_cidr_is_rejected_with_the_reason(cidr, reason):
    config = staging_config(**{f"{NS}:network": staging_network(vpcCidr=cidr)})
    with pytest.raises(ConfigError, match=f"network.vpcCidr = \"{cidr}\" is not allowed") as error:
        load(config)
    assert reason in str(error.value)


def test_a_health_checker_region_route53_does_not_run_is_rejected():
    config = staging_config(**{f"{NS}:failover": {"healthCheckRegions": ["eu-west-1", "us-east-1", "eu-central-1"]}})
    with pytest.raises(ConfigError, match=r"\['eu-central-1'\] are not Route 53 health checker regions"):
        load(config)


@pytest.mark.parametrize("az_count", [1, 4])
def test_az_count_outside_two_to_three_is_rejected(az_count):
    config = staging_config(**{f"{NS}:network": staging_network(azCount=az_count, endpointAzCount=1)})
    with pytest.raises(ConfigError, match=rf"network\.azCount = {az_count} is not allowed"):
        load(config)


def test_endpoint_az_count_cannot_exceed_az_count():
    config = staging_config(**{f"{NS}:network": staging_network(azCount=2, endpointAzCount=3)})
    with pytest.raises(ConfigError, match=r"endpointAzCount \(3\) cannot exceed azCount \(2\)"):
        load(config)


def test_unsupported_region_is_rejected():
    with pytest.raises(ConfigError, match=r"aws:region = 'us-east-1' is not supported"):
        load(staging_config(**{"aws:region": "us-east-1"}))


def test_region_must_fit_the_role():
    with pytest.raises(ConfigError, match=r"a primary stack runs in eu-central-1"):
        load(staging_config(**{"aws:region": "eu-west-1"}))


def test_prod_requires_service_connect_tls():
    config = dict(read_stack_file("prod").config)
    config[f"{NS}:serviceConnect"] = json.dumps({"tls": False})
    with pytest.raises(ConfigError, match=r"serviceConnect.tls must be true in prod"):
        load(config, "prod")


@pytest.mark.parametrize("percent", [0.5, 6, 2.55])
def test_canary_percent_outside_bounds_is_rejected(percent):
    config = staging_config(**{f"{NS}:deployment": {"strategy": "CANARY", "canaryPercent": percent}})
    with pytest.raises(ConfigError, match=r"deployment.canaryPercent"):
        load(config)


def test_timeouts_must_nest_client_below_service_below_infrastructure():
    config = staging_config(**{f"{NS}:serviceConnect": {"perRequestTimeoutSeconds": 5, "clientTimeoutSeconds": 6}})
    with pytest.raises(ConfigError, match=r"HTTP client timeout 6s must be lower than the Service Connect per-request "
                                          r"timeout 5s \(clientTimeoutSeconds < perRequestTimeoutSeconds"):
        load(config)


def test_unknown_service_in_enabled_list_names_the_catalog():
    services = json.loads(read_stack_file("staging").config[f"{NS}:services"])
    services["enabled"] = ["auth", "persona", "payments"]
    with pytest.raises(ConfigError, match=r"services.enabled = 'payments' is not allowed; allowed: \['auth'"):
        load(staging_config(**{f"{NS}:services": services}))


def test_a_service_cannot_run_without_the_services_it_calls():
    services = {"enabled": ["persona"], "overrides": {"persona": {"image": "1.0.0"}}}
    with pytest.raises(ConfigError, match=r"'persona' calls \['auth'\]"):
        load(staging_config(**{f"{NS}:services": services}))


def test_missing_image_is_a_config_error():
    services = {"enabled": ["auth"], "overrides": {}}
    with pytest.raises(ConfigError, match=r"services.overrides.auth.image is missing"):
        load(staging_config(**{f"{NS}:services": services}))


def test_override_wins_over_catalog_value():
    settings = load(read_stack_file("staging").config)
    assert settings.service("auth").min_tasks == 1  # catalog says 2, staging overrides to 1


def test_catalog_rejects_duplicate_listener_rule_priorities(tmp_path):
    catalog = yaml.safe_load((PROJECT_DIR / "platform" / "services.yaml").read_text())
    catalog["services"]["persona"]["listenerRulePriority"] = catalog["services"]["auth"]["listenerRulePriority"]
    path = tmp_path / "services.yaml"
    path.write_text(yaml.safe_dump(catalog))
    with pytest.raises(ConfigError, match=r"listenerRulePriority 100 is already used by auth"):
        load_catalog(path)


def test_secret_config_value_is_kept_out_of_the_offline_config(tmp_path):
    project = _copy_project(tmp_path)
    stack_file = project / "Pulumi.staging.yaml"
    document = yaml.safe_load(stack_file.read_text())
    document["config"][f"{NS}:alertEmail"] = {"secure": "v1:abcdefgh:ciphertext"}
    stack_file.write_text(yaml.safe_dump(document))
    loaded = read_stack_file("staging", project)
    assert loaded.config[f"{NS}:alertEmail"] == "[secret]"
    assert loaded.secret_keys == (f"{NS}:alertEmail",)


def test_overlapping_cidrs_of_one_environment_are_rejected(tmp_path):
    project = _copy_project(tmp_path)
    standby = project / "Pulumi.staging-euw1.yaml"
    document = yaml.safe_load(standby.read_text())
    document["config"][f"{NS}:network"]["vpcCidr"] = "10.10.0.0/17"  # inside staging's 10.10.0.0/16
    standby.write_text(yaml.safe_dump(document))
    settings = settings_from_config("staging", read_stack_file("staging", project).config,
                                    load_catalog(project / "platform" / "services.yaml"))
    with pytest.raises(ConfigError, match=r"overlaps stack 'staging-euw1' \(eu-west-1, 10.10.0.0/17\)"):
        check_across_stacks(settings, project)


def _copy_project(tmp_path: Path) -> Path:
    for name in ["Pulumi.yaml", *[f"Pulumi.{s}.yaml" for s in list_stacks()]]:
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    shutil.copytree(PROJECT_DIR / "platform", tmp_path / "platform")
    return tmp_path


def test_platform_folder_is_data_and_never_shadows_the_standard_library():
    assert not (PROJECT_DIR / "platform" / "__init__.py").exists()
    import platform as stdlib_platform
    import uuid  # imports the stdlib `platform` module internally

    assert stdlib_platform.__file__.endswith("platform.py") and "site-packages" not in stdlib_platform.__file__
    assert uuid.uuid4().version == 4


def _catalog_with(tmp_path: Path, mutate) -> Path:
    raw = yaml.safe_load(Path("platform/services.yaml").read_text())
    mutate(raw["services"])
    path = tmp_path / "services.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_a_service_name_aws_would_refuse_is_a_catalog_error_not_a_component_exception(tmp_path):
    # 30 characters passed the old settings rule and then failed inside MeshService with a bare ValueError.
    name = "a" * 30
    path = _catalog_with(tmp_path, lambda services: services.update({name: services["auth"] | {
        "pathPrefix": "/api/long", "listenerRulePriority": 4321}}))
    with pytest.raises(ConfigError, match=rf"services.{name} = .* is not allowed: a service name is 1-22"):
        load_catalog(path)


@pytest.mark.parametrize("mutate, message", [
    (lambda s: s["auth"].update(calls=["auth"]), "calls names auth itself"),
    (lambda s: s["auth"].update(pathPrefix="/api"), "would swallow the routes"),
    (lambda s: s["auth"].update(healthPath="/../admin"), "healthPath"),
    (lambda s: s["auth"].update(pathPrefix="/api/" + "a" * 124), "128 characters"),
    (lambda s: s["auth"].update(config={"BIG": "x" * 4097}), "4096 characters"),
])
def test_catalog_values_aws_or_the_catalog_rules_refuse_name_the_key(tmp_path, mutate, message):
    with pytest.raises(ConfigError, match=message):
        load_catalog(_catalog_with(tmp_path, mutate))


@pytest.mark.parametrize("text, message", [
    ("services: [a, b]\n", "services"),
    ("- a\n- b\n", "top level .* must be a mapping"),
    ("services:\n  auth: {}\n  auth: {}\n", "appears twice"),
    ("services: {auth: [\n", "not valid YAML at line"),
    ("a:" + " [" * 200 + " ]" * 200 + "\n", "nested too deeply"),
])
def test_a_malformed_catalog_file_is_one_message_naming_the_file(tmp_path, text, message):
    path = tmp_path / "services.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as error:
        load_catalog(path)
    assert "services.yaml" in str(error.value) and "Traceback" not in str(error.value)


def test_account_id_must_be_one_twelve_digit_id_and_is_blamed_on_its_own_key():
    with pytest.raises(ConfigError, match=r"aws:allowedAccountIds = .* is not allowed; give a list of exactly one"):
        load(staging_config(**{"aws:allowedAccountIds": json.dumps(["12345"])}))


def test_a_config_key_that_collides_with_a_secrets_variable_is_a_catalog_error(tmp_path):
    # RegisterTaskDefinition refuses one environment variable twice; the component would fail later.
    path = _catalog_with(tmp_path, lambda services: services["auth"].update(config={"JWT_SIGNING_KEY": "x"}))
    with pytest.raises(ConfigError, match=r"services\.auth = .*JWT_SIGNING_KEY.* both a config key and a secret"):
        load_catalog(path)


def _standby_config(stack: str, minimums: dict) -> dict:
    config = dict(read_stack_file(stack).config)
    failover = json.loads(config[f"{NS}:failover"])
    config[f"{NS}:failover"] = json.dumps(failover | {"standbyMinTasks": minimums})
    return config


def test_a_staging_standby_without_dns_may_run_a_pilot_light_of_zero_tasks():
    settings = load(_standby_config("staging-euw1", {"auth": 0, "persona": 0}), "staging-euw1")
    assert {s.name: s.min_tasks for s in settings.services} == {"auth": 0, "persona": 0}
    assert all(s.max_tasks >= 1 for s in settings.services)


def test_a_standby_checks_its_own_liveness_unless_the_checked_service_runs_no_task():
    # The failover checks request persona's path (the service with data); auth at 0 leaves persona live.
    assert load(_standby_config("staging-euw1", {"auth": 0, "persona": 1}), "staging-euw1").has_own_liveness_check
    dark = load(_standby_config("staging-euw1", {"auth": 1, "persona": 0}), "staging-euw1")
    assert dark.failover_checked_service is not None and dark.failover_checked_service.name == "persona"
    assert not dark.has_own_liveness_check
    assert not load(read_stack_file("staging").config).has_own_liveness_check  # a primary has the DNS records' check


def test_a_prod_standby_refuses_a_pilot_light_and_names_the_key():
    with pytest.raises(ConfigError, match=r"failover\.standbyMinTasks sets \['auth'\] to 0"):
        load(_standby_config("prod-euw1", {"auth": 0}), "prod-euw1")


def _readers_config(stack: str, **failover) -> dict:
    config = dict(read_stack_file(stack).config)
    current = json.loads(config.get(f"{NS}:failover", "{}"))
    config[f"{NS}:failover"] = json.dumps(current | failover)
    return config


def test_a_staging_standby_may_keep_its_secondary_databases_headless():
    settings = load(_readers_config("staging-euw1", standbyDatabaseReaders=0), "staging-euw1")
    assert settings.replicate_data and settings.global_database_services == ("persona",)


@pytest.mark.parametrize(("stack", "failover"), [
    ("prod-euw1", {"standbyDatabaseReaders": 0}),  # prod's RTO counts on a reader Aurora promotes at once
    ("staging", {"standbyDatabaseReaders": 0}),  # a primary has no secondary
    ("staging-euw1", {"standbyDatabaseReaders": 0, "replicateData": False}),  # nothing to be headless
])
def test_headless_secondaries_are_refused_outside_a_replicating_non_prod_standby(stack, failover):
    with pytest.raises(ConfigError, match=r"failover\.standbyDatabaseReaders = 0 .* allowed here: 1"):
        load(_readers_config(stack, **failover), stack)


def test_prod_must_replicate_its_data():
    with pytest.raises(ConfigError, match=r"failover\.replicateData must be true in prod"):
        load(_readers_config("prod", replicateData=False), "prod")


def test_a_primary_keeps_at_least_one_task_per_service():
    config = staging_config(**{f"{NS}:services": {"enabled": ["auth", "persona"], "overrides": {
        "auth": {"image": "1.4.0", "minTasks": 0}, "persona": {"image": "2.1.3"}}}})
    with pytest.raises(ConfigError, match="minTasks"):
        load(config)
