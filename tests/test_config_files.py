"""Each class of bad input issue 13 names, in the file where it occurs, ends in one short ConfigError
that names the file or key and what is allowed (load_stack reads the files as the program does)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from foundation.settings import (
    ConfigError,
    list_stacks,
    load_catalog,
    load_stack,
    read_stack_file,
    settings_from_config,
)

PROJECT_DIR = Path(__file__).resolve().parent.parent
NS = "microservices-foundation"


@pytest.fixture
def project(tmp_path) -> Path:
    for name in ["Pulumi.yaml", *[f"Pulumi.{s}.yaml" for s in list_stacks()]]:
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    shutil.copytree(PROJECT_DIR / "platform", tmp_path / "platform")
    return tmp_path


def edit_yaml(path: Path, change) -> None:
    document = yaml.safe_load(path.read_text())
    change(document)
    path.write_text(yaml.safe_dump(document))


def refused(stack: str, project: Path) -> str:
    with pytest.raises(ConfigError) as error:
        load_stack(stack, project)
    message = str(error.value)
    assert len(message) <= 500 and len(message.splitlines()) <= 4, message
    return message


def prod_config(key: str, value) -> dict:
    config = dict(read_stack_file("prod").config)
    config[f"{NS}:{key}"] = json.dumps(value)
    return config


def refused_prod_value(key: str, value) -> str:
    with pytest.raises(ConfigError) as error:
        settings_from_config("prod", prod_config(key, value), load_catalog())
    return str(error.value)


@pytest.mark.parametrize("currency, allowed", [({}, "is required"), ({"eurToUsd": 0}, "greater than 0"),
                                               ({"eurToUsd": -1.1}, "greater than 0"),
                                               ({"eurToUsd": "many"}, "valid number")])
def test_a_bad_price_file_stops_the_load_naming_the_file_and_key(project, currency, allowed):
    edit_yaml(project / "platform" / "prices.yaml", lambda d: d.update(currency=currency))
    message = refused("staging", project)
    assert "prices.yaml" in message and "currency.eurToUsd" in message and allowed in message


def test_a_stack_file_whose_top_level_is_a_list_names_the_file(project):
    (project / "Pulumi.staging.yaml").write_text("- config\n- aws:region\n")
    assert "Pulumi.staging.yaml: the top level of the stack file must be a mapping" in refused("staging", project)


def test_a_yaml_error_in_the_project_file_names_it_with_the_line(project):
    (project / "Pulumi.yaml").write_text("name: microservices-foundation\nconfig: {tags: [\n")
    assert refused("staging", project).startswith("Pulumi.yaml: the project file is not valid YAML at line 3")


def test_deep_nesting_in_a_stack_file_is_refused_without_recursion(project):
    deep = "[" * 5000 + "]" * 5000
    (project / "Pulumi.staging.yaml").write_text(f"config:\n  {NS}:tags: {deep}\n")
    assert "nested too deeply" in refused("staging", project)


def test_aliases_that_would_explode_or_contain_themselves_are_refused_before_loading(project):
    laughs = "".join(f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]\n" for i in range(1, 10))
    (project / "Pulumi.staging.yaml").write_text(f"config:\n  l0: &l0 [lol]\n{laughs}")
    assert "Pulumi.staging.yaml: the stack file expands to more than 20000 values" in refused("staging", project)
    (project / "Pulumi.staging.yaml").write_text(f"config:\n  {NS}:tags: &self [*self]\n")
    assert "uses the alias *self inside its own anchor" in refused("staging", project)


def test_a_plain_alias_is_read_as_its_value(project):
    path = project / "Pulumi.staging.yaml"
    text = path.read_text()
    assert "    monthlyEur: 100\n" in text
    path.write_text(text.replace("    monthlyEur: 100", "    monthlyEur: &budget 100")
                    + f"  {NS}:alarms: {{errorRatePercent: 5, p95LatencyMs: *budget}}\n")
    assert load_stack("staging", project).config.alarms.p95_latency_ms == 100


def test_a_duplicate_key_in_a_stack_file_is_refused(project):
    path = project / "Pulumi.prod.yaml"
    path.write_text(path.read_text() + f"  {NS}:environment: staging\n")
    assert "appears twice" in refused("prod", project)


@pytest.mark.parametrize("primary, problem", [
    ("acme/microservices-foundation/staging-euw1", "names this stack itself"),
    ("acme/microservices-foundation/qa", "has no Pulumi.qa.yaml"),
    ("acme/other-project/staging", "names project 'other-project'"),
    ("acme/microservices-foundation/prod", "it must be the staging primary"),
])
def test_a_standby_must_name_another_existing_primary_of_this_project(project, primary, problem):
    edit_yaml(project / "Pulumi.staging-euw1.yaml",
              lambda d: d["config"].update({f"{NS}:failover": {"primaryStack": primary}}))
    message = refused("staging-euw1", project)
    assert f"{NS}:failover.primaryStack" in message and problem in message


def test_a_missing_account_id_is_blamed_on_its_own_key_not_on_replication(project):
    edit_yaml(project / "Pulumi.prod.yaml", lambda d: d["config"].pop("aws:allowedAccountIds"))
    message = refused("prod", project)
    assert "aws:allowedAccountIds is required" in message and "registryReplication" not in message


def test_a_key_in_a_foreign_namespace_is_refused(project):
    edit_yaml(project / "Pulumi.staging.yaml", lambda d: d["config"].update({"microservice-foundation:budget": {}}))
    assert "namespace must be the project name" in refused("staging", project)


@pytest.mark.parametrize("value", ["cc\x07platform", "line\nbreak", "", "x" * 257])
def test_tag_values_aws_refuses_are_refused(value):
    assert f"{NS}:tags.costCenter" in refused_prod_value("tags", {"costCenter": value, "owner": "platform-team"})


def test_a_megabyte_value_is_not_echoed(project):
    message = refused_prod_value("tags", {"costCenter": "\x00" * 1_000_000, "owner": "platform-team"})
    assert len(message) < 500


@pytest.mark.parametrize("emails", [["a..b@example.com"], ["oncall@example"], ["on call@example.com"],
                                    ["a@example.com", "A@example.com"]])
def test_alert_emails_budgets_would_refuse_are_refused(emails):
    assert f"{NS}:budget.alertEmails" in refused_prod_value("budget", {"monthlyEur": 10, "alertEmails": emails})


def test_a_domain_longer_than_an_acm_common_name_is_refused():
    message = refused_prod_value("dns", {"domain": "a" * 61 + ".com", "hostedZoneId": "Z04517273FCLIMSHKTNC1"})
    assert f"{NS}:dns.domain" in message and "64 characters" in message


def test_true_is_not_a_task_count():
    assert "monthlyEur = true is not allowed: a number" in refused_prod_value("budget", {"monthlyEur": True})


def test_health_checker_regions_are_listed_once():
    message = refused_prod_value("failover", {"healthCheckRegions": ["eu-west-1", "us-east-1", "us-west-2",
                                                                     "us-west-2"]})
    assert "listed once" in message


def test_health_paths_with_dot_segments_are_refused():
    assert "no '//' or '..'" in refused_prod_value("failover", {"healthCheckPath": "/api/auth/../admin"})


def test_a_failover_health_path_longer_than_route53_allows_is_refused():
    message = refused_prod_value("failover", {"healthCheckPath": "/api/auth/" + "h" * 250})
    assert "at most 255 characters" in message


def test_the_dns_wiring_rto_binds_only_stacks_with_dns_failover_and_the_plan_rto_binds_every_stack():
    slow_dns = {"healthCheckIntervalSeconds": 30, "failureThreshold": 10, "rtoObjectiveMinutes": 15}
    staging = dict(read_stack_file("staging").config) | {f"{NS}:failover": json.dumps(slow_dns)}
    staging.pop(f"{NS}:dns")
    # 300 s detection + 60 s TTL fits 15 min; so does staging's plan (detection and decision, scale-up).
    assert settings_from_config("staging", staging, load_catalog()).config.dns is None
    assert "over the objective" in refused_prod_value("failover", slow_dns | {"rtoObjectiveMinutes": 5})
    # Without DNS, the plan still moves capacity: its RTO binds staging as well.
    staging[f"{NS}:failover"] = json.dumps({"rtoObjectiveMinutes": 2})
    with pytest.raises(ConfigError, match=r"Region switch plan takes about detection 150 s \+ scale-up 240 s = 390 s "
                                          r".* costliest step is scale-up \(240 s\): lower \S+failover.scaleUpMinutes"):
        settings_from_config("staging", staging, load_catalog())


def test_many_problems_with_long_keys_stay_one_short_message():
    keys = {f"\x13key{i}" + "\U000939e6" * 80: i for i in range(5)}
    message = refused_prod_value("serviceConnect", keys)
    assert len(message) <= 500 and message.endswith("more problems")
    assert message.startswith(f"stack 'prod': unknown key {NS}:serviceConnect.\\x13key")


@pytest.mark.parametrize("value", ["2026-11-01", "!!binary aGk=", ".nan", "!!set {a, b}"])
def test_yaml_values_without_a_json_form_are_refused_naming_the_key(project, value):
    path = project / "Pulumi.staging.yaml"
    text = path.read_text()
    assert "    monthlyEur: 100\n" in text
    path.write_text(text.replace("    monthlyEur: 100\n", f"    monthlyEur: {value}\n"))
    assert refused("staging", project).startswith(f"Pulumi.staging.yaml: {NS}:budget holds a value with no JSON form")


@pytest.mark.parametrize("key, names", [("calls", ["auth", "auth"]), ("secrets", ["database-url", "database-url"])])
def test_a_callee_or_secret_listed_twice_in_the_catalog_is_refused(project, key, names):
    edit_yaml(project / "platform" / "services.yaml", lambda d: d["services"]["persona"].update({key: names}))
    message = refused("staging", project)
    assert f"services.yaml: services.persona.{key}" in message and "listed more than once" in message


@pytest.mark.parametrize("key, value, allowed", [
    ("budget", {"monthlyEur": 10, "alertEmails": ["oncall@example"]}, "must be a plain address such as oncall@"),
    ("dns", {"domain": "Platform.Example.com", "hostedZoneId": "Z04517273FCLIMSHKTNC1"}, "must be a lowercase DNS"),
    ("dns", {"domain": "platform.example.com", "hostedZoneId": "z123"}, "must be a Route 53 hosted zone id"),
    ("tags", {"costCenter": "cc\tplatform", "owner": "o"}, "(no control characters)"),
])
def test_text_rules_say_what_is_allowed_in_words(key, value, allowed):
    message = refused_prod_value(key, value)
    assert allowed in message and "pattern" not in message


@pytest.mark.parametrize("runtime, expected", [
    ({"name": "nodejs"}, "Pulumi.yaml: runtime.name = \"nodejs\" is not allowed: Input should be 'python'"),
    ({"name": "python", "options": {"virtualenv": 2192}}, "runtime.options.virtualenv = 2192 is not allowed"),
    ({"name": "python", "options": {"toolchain": "conda"}}, "runtime.options.toolchain = \"conda\" is not allowed"),
    (None, "Pulumi.yaml: runtime"),
])
def test_a_project_file_whose_runtime_cannot_run_this_program_is_refused(project, runtime, expected):
    edit_yaml(project / "Pulumi.yaml", lambda d: d.update(runtime=runtime))
    assert expected in refused("staging", project)


def test_the_price_file_must_say_when_the_rate_was_read(project):
    edit_yaml(project / "platform" / "prices.yaml", lambda d: d["currency"].update(asOf="last week"))
    message = refused("staging", project)
    assert "prices.yaml: currency.asOf" in message and "valid date" in message


def test_a_misspelled_top_level_key_of_a_stack_file_is_named(project):
    path = project / "Pulumi.staging.yaml"
    path.write_text(path.read_text().replace("config:", "confg:", 1))
    assert refused("staging", project).startswith("Pulumi.staging.yaml: unknown top-level key confg; a stack file")


def test_what_pulumi_stack_init_writes_beside_the_config_is_accepted(project):
    path = project / "Pulumi.staging.yaml"
    path.write_text("encryptionsalt: v1:abc:def\n" + path.read_text())
    assert load_stack("staging", project).stack == "staging"


def test_the_catalog_is_validated_once_per_content_and_again_when_it_changes(project, monkeypatch):
    from foundation.settings import catalog as catalog_module

    validations = []
    original = catalog_module.Catalog.model_validate

    def counted(raw):
        validations.append(sorted(raw["services"]))
        return original(raw)

    monkeypatch.setattr(catalog_module.Catalog, "model_validate", counted)
    path = project / "platform" / "services.yaml"
    first = load_catalog(path)
    assert load_catalog(path) is first
    assert len(validations) == 1

    edit_yaml(path, lambda document: document["services"]["auth"].update(minTasks=3))
    changed = load_catalog(path)
    assert len(validations) == 2 and changed.services["auth"].min_tasks == 3

    edit_yaml(path, lambda document: document["services"]["auth"].update(minTasks="many"))
    for _ in range(2):  # a bad catalog is refused on every load, not remembered as anything
        with pytest.raises(ConfigError, match=r"services\.yaml"):
            load_catalog(path)
    assert len(validations) == 4
