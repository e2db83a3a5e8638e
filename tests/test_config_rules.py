"""Config that AWS would refuse, or that would silently change what the program checks, ends in one
ConfigError naming the file and the key (issue 19, "Config"): each rule with a refused and an accepted case."""

from __future__ import annotations

import copy
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.data.spec import event_source
from foundation.settings import (
    PROJECT_DIR,
    Catalog,
    ConfigError,
    list_stacks,
    load_catalog,
    load_stack,
    read_stack_file,
    settings_from_config,
)
from foundation.settings.quotas import load_quota_table
from policies.cost.prices import PriceFileError, parse_prices

NS = "microservices-foundation"
CATALOG = yaml.safe_load((PROJECT_DIR / "platform" / "services.yaml").read_text())
PRICES = (PROJECT_DIR / "platform" / "prices.yaml").read_text()


def _config(stack: str, **changes: Any) -> dict[str, Any]:
    config = dict(read_stack_file(stack, PROJECT_DIR).config)
    for key, change in changes.items():
        current = config.get(f"{NS}:{key}")
        current = json.loads(current) if isinstance(current, str) and current[:1] in "{[" else current
        config[f"{NS}:{key}"] = change(copy.deepcopy(current)) if callable(change) else change
    return config


def _settings(stack: str = "staging", catalog: dict[str, Any] | None = None, **changes: Any) -> object:
    return settings_from_config(stack, _config(stack, **changes), Catalog.model_validate(catalog or CATALOG))


def _catalog(edit: Any) -> dict[str, Any]:
    catalog = copy.deepcopy(CATALOG)
    edit(catalog["services"])
    return catalog


def load_catalog_text(catalog: dict[str, Any]) -> Catalog:
    """The catalog as the program reads it from platform/services.yaml (errors as ConfigError), beside the
    committed event schemas and a minimal schema for every published detail type that has none."""
    folder = Path(tempfile.mkdtemp())
    (folder / "services.yaml").write_text(yaml.safe_dump(catalog))
    shutil.copytree(PROJECT_DIR / "platform" / "schemas", folder / "schemas")
    for source, entry in catalog["services"].items():
        for detail_type in entry.get("publishes") or []:
            schema = folder / "schemas" / source / f"{detail_type}.json"
            if not schema.exists():
                schema.parent.mkdir(parents=True, exist_ok=True)
                schema.write_text(json.dumps({"$schema": "https://json-schema.org/draft/2020-12/schema",
                                              "title": detail_type, "type": "object",
                                              "examples": [{}]}))
    return load_catalog(folder / "services.yaml")


def _copy_project(tmp_path: Path) -> Path:
    for name in ["Pulumi.yaml", *[f"Pulumi.{s}.yaml" for s in list_stacks()]]:
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    shutil.copytree(PROJECT_DIR / "platform", tmp_path / "platform")
    return tmp_path


def _edit_stack(project: Path, stack: str, edit: Any) -> None:
    stack_file = project / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(stack_file.read_text())
    edit(document["config"])
    stack_file.write_text(yaml.safe_dump(document))


# --- the quota table ---------------------------------------------------------------------------------

def test_a_counted_quota_missing_from_the_quota_table_is_refused_naming_file_and_key(tmp_path: Path) -> None:
    table = yaml.safe_load((PROJECT_DIR / "platform" / "quotas.yaml").read_text())
    del table["quotas"]["rulesPerSecurityGroup"]
    (tmp_path / "quotas.yaml").write_text(yaml.safe_dump(table))
    with pytest.raises(ConfigError, match=r"quotas\.yaml: quotas\.rulesPerSecurityGroup is missing"):
        load_quota_table(tmp_path / "quotas.yaml")


def test_a_counted_quota_without_a_value_is_refused(tmp_path: Path) -> None:
    table = yaml.safe_load((PROJECT_DIR / "platform" / "quotas.yaml").read_text())
    table["quotas"]["targetsPerAlb"]["value"] = None
    (tmp_path / "quotas.yaml").write_text(yaml.safe_dump(table))
    with pytest.raises(ConfigError, match=r"quotas\.targetsPerAlb\.value is null"):
        load_quota_table(tmp_path / "quotas.yaml")


def test_the_committed_quota_table_has_every_counted_row() -> None:
    assert load_quota_table().quota("rulesPerSecurityGroup").value == 60


# --- the price file ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["? [1, 2]\n: x\n", "{a: 1}: 2\n"])
def test_a_price_file_with_a_list_or_map_as_key_is_refused_not_a_crash(text: str) -> None:
    with pytest.raises(PriceFileError, match=r"platform/prices\.yaml: a mapping key at line 1 is a (list|dict)"):
        parse_prices(text)


@pytest.mark.parametrize("rate", [".inf", ".nan"])
def test_an_infinite_or_nan_exchange_rate_is_refused(rate: str) -> None:
    with pytest.raises(PriceFileError, match=r"currency\.eurToUsd: Input should be a finite number"):
        parse_prices(PRICES.replace("eurToUsd:", f"eurToUsd: {rate} #", 1))


def test_the_committed_price_file_parses() -> None:
    assert parse_prices(PRICES).currency.eur_to_usd > 0.5


def test_an_exchange_rate_that_rounds_the_budget_to_zero_is_refused(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)
    prices = project / "platform" / "prices.yaml"
    prices.write_text(prices.read_text().replace("eurToUsd:", "eurToUsd: 0.001 #", 1))
    _edit_stack(project, "staging", lambda config: config[f"{NS}:budget"].update(monthlyEur=1))
    with pytest.raises(ConfigError, match=r"budget\.monthlyEur = 1 at platform/prices\.yaml currency\.eurToUsd = "
                                          r"0\.001 is 0\.0010 USD, which AWS Budgets \(whole cents\) would round to 0"):
        load_stack("staging", project)


def test_a_one_euro_budget_at_the_committed_rate_is_accepted(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)
    _edit_stack(project, "staging", lambda config: config[f"{NS}:budget"].update(monthlyEur=1))
    assert load_stack("staging", project).config.budget.monthly_eur == 1


# --- AWS limits checked in settings, with the key ----------------------------------------------------

def _subscribe_with(detail_types: list[str]) -> dict[str, Any]:
    def edit(services: dict[str, Any]) -> None:
        services["upload"]["publishes"] = [*services["upload"]["publishes"], *detail_types]
        services["vc-start"]["subscribes"] = [{"source": "upload", "detailTypes": detail_types}]
    return _catalog(edit)


def test_an_event_pattern_over_eventbridges_default_size_is_refused_naming_the_subscription() -> None:
    long_types = [f"Upload{'X' * 100}{i}" for i in range(20)]
    with pytest.raises(ConfigError, match=r"services\.vc-start\.subscribes\[0\]\.detailTypes: the event pattern for "
                                          r"upload exceeds 2048 characters, EventBridge's default quota"):
        load_catalog_text(_subscribe_with(long_types))


def test_an_event_pattern_within_the_default_size_is_accepted() -> None:
    assert load_catalog_text(_subscribe_with([f"Upload{i}" for i in range(20)])).services["vc-start"].subscribes


def test_publishing_more_detail_types_than_a_pipe_filter_holds_is_refused() -> None:
    many = [f"Upload{'Y' * 120}{i}" for i in range(40)]
    catalog = _catalog(lambda services: services["upload"].update(publishes=[*services["upload"]["publishes"], *many]))
    with pytest.raises(ConfigError, match=r"services\.upload\.publishes make an outbox filter of \d+ characters; "
                                          r"EventBridge Pipes allow 4096"):
        load_catalog_text(catalog)


# --- DynamoDB key schema and the outbox item ---------------------------------------------------------

def _table(**changes: Any) -> dict[str, Any]:
    return _catalog(lambda services: services["vc-start"]["data"].update(changes))


def test_a_partition_key_equal_to_the_sort_key_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"partitionKey/sortKey both name 'pk'"):
        load_catalog_text(_table(sortKey={"name": "pk", "type": "S"}))


def test_an_index_whose_partition_and_sort_key_are_one_attribute_is_refused() -> None:
    index = {"name": "by-x", "partitionKey": {"name": "x", "type": "S"}, "sortKey": {"name": "x", "type": "S"}}
    with pytest.raises(ConfigError, match=r"indexes\.by-x\.partitionKey/sortKey both name 'x'"):
        load_catalog_text(_table(indexes=[index]))


def test_distinct_key_attributes_are_accepted() -> None:
    data = load_catalog_text(_table(sortKey={"name": "sk", "type": "S"})).services["vc-start"].data
    assert data is not None and data.kind == "dynamodb"


def test_an_outbox_table_with_a_number_sort_key_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"outbox needs a String sortKey"):
        load_catalog_text(_table(sortKey={"name": "sk", "type": "N"}))


def test_an_index_key_that_retypes_an_outbox_attribute_is_refused() -> None:
    index = {"name": "by-type", "partitionKey": {"name": "detailType", "type": "N"}}
    with pytest.raises(ConfigError, match=r"an index key declares 'detailType' as N, but the outbox item writes"):
        load_catalog_text(_table(indexes=[index]))


def test_ttl_on_an_outbox_payload_attribute_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"ttlAttribute 'payload' is an attribute of the outbox item"):
        load_catalog_text(_table(ttlAttribute="payload"))


def test_the_committed_outbox_tables_fit_their_outbox_items() -> None:
    assert load_catalog().services["vc-start"].has_outbox


# --- numbers, text, URLs, tag values -----------------------------------------------------------------

def test_true_as_a_quota_value_is_refused_as_not_a_number() -> None:
    with pytest.raises(ConfigError, match=rf"{NS}:quotas = .* is not allowed: a number is expected, not true/false"):
        _settings(quotas={"targetsPerAlb": True})


def test_true_where_a_choice_of_numbers_is_expected_is_refused_as_not_a_number() -> None:
    # Literal[0, 1] would take true as 1 (True == 1 in Python).
    with pytest.raises(ConfigError, match=rf"{NS}:failover.standbyDatabaseReaders = true is not allowed: a number "
                                          "is expected, not true/false"):
        _settings(failover={"standbyDatabaseReaders": True})


def test_a_number_as_a_quota_value_is_accepted() -> None:
    assert _settings(quotas={"targetsPerAlb": 1200}) is not None


@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_infinity_and_nan_are_refused_as_numbers(value: float) -> None:
    with pytest.raises(ConfigError, match=r"budget\.monthlyEur = (Infinity|NaN) is not allowed: Input should be a "
                                          r"finite number"):
        _settings(budget=lambda budget: {**budget, "monthlyEur": value})


def test_true_as_a_catalog_capacity_is_refused() -> None:
    catalog = _catalog(lambda services: services["persona"]["data"].update(maxCapacity=True))
    with pytest.raises(ConfigError, match=r"maxCapacity = true is not allowed: Input should be a valid number"):
        load_catalog_text(catalog)


@pytest.mark.parametrize("url", ["https:///hook", "https://?token=x", "https://", "http://pager.example/hook"])
def test_an_alert_url_without_a_host_or_https_is_refused(url: str) -> None:
    with pytest.raises(ConfigError, match=r"alerts\.httpsEndpoint = .* is not allowed: must be an https:// URL "
                                          r"with a host name"):
        _settings("prod", alerts=lambda alerts: {**(alerts or {}), "httpsEndpoint": url})


def test_an_alert_url_with_a_host_is_accepted() -> None:
    assert _settings("prod", alerts=lambda alerts: {**(alerts or {}), "httpsEndpoint": "https://pager.example/h"})


@pytest.mark.parametrize("owner", ["ops\x00team", "ops\nteam", "ops\tteam"])
def test_a_control_character_in_config_text_is_refused_naming_the_key(owner: str) -> None:
    with pytest.raises(ConfigError, match=rf"{NS}:tags\.owner is not allowed: config text must be printable"):
        _settings(tags={"costCenter": "platform", "owner": owner})


def test_a_control_character_in_the_catalog_is_refused_naming_the_key() -> None:
    catalog = _catalog(lambda services: services["upload"]["config"].update(MAX_UPLOAD_MB="100\n"))
    with pytest.raises(ConfigError, match=r"services\.upload\.config\.MAX_UPLOAD_MB is not allowed: config text must be printable"):
        load_catalog_text(catalog)


def _approval(**changes: str) -> Any:
    approval = {"amountEur": 500, "reason": "launch week traffic test approved", "approver": "ops@example.com"}
    return lambda budget: {**budget, "approval": {**approval, **changes}}


@pytest.mark.parametrize(("key", "value"), [
    ("approver", "ops <team>"), ("approver", "ops#1"), ("reason", "launch week traffic test (approved)"),
    ("reason", "launch week traffic te\u0301st approved"), ("approver", "x" * 257)])
def test_an_approval_aws_would_refuse_as_a_tag_value_is_refused(key: str, value: str) -> None:
    with pytest.raises(ConfigError, match=rf"budget\.approval\.{key} = .* is not allowed"):
        _settings(budget=_approval(**{key: value}))


def test_an_approval_in_aws_tag_value_characters_is_accepted() -> None:
    settings = _settings(budget=_approval(approver="Zoë Müller @ ops", reason="Launch week: load test = 2x traffic"))
    assert settings is not None


def test_a_pattern_anchored_with_dollar_does_not_accept_a_trailing_newline() -> None:
    with pytest.raises(ValueError, match="service name"):
        event_source("auth\n")
    assert event_source("auth") == "microservices.auth"


# --- the same key twice ------------------------------------------------------------------------------

def test_a_key_given_in_camel_case_and_snake_case_is_refused() -> None:
    with pytest.raises(ConfigError, match=rf"{NS}:network\.azCount is given twice, as azCount and as az_count"):
        _settings(network=lambda network: {**network, "az_count": 3})


def test_a_catalog_key_given_in_two_spellings_is_refused() -> None:
    catalog = _catalog(lambda services: services["auth"].update(max_tasks=3))
    with pytest.raises(ConfigError, match=r"maxTasks is given twice, as maxTasks and as max_tasks"):
        load_catalog_text(catalog)


def test_a_key_written_twice_in_a_stack_file_is_refused(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)
    stack_file = project / "Pulumi.staging.yaml"
    stack_file.write_text(stack_file.read_text().replace(
        f"  {NS}:role: primary\n", f"  {NS}:role: primary\n  {NS}:role: standby\n", 1))
    with pytest.raises(ConfigError, match=rf"Pulumi\.staging\.yaml.*{NS}:role.*twice"):
        read_stack_file("staging", project)


# --- database names ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["user", "select", "postgres", "rdsadmin"])
def test_a_reserved_word_as_database_name_is_refused(name: str) -> None:
    catalog = _catalog(lambda services: services["persona"]["data"].update(databaseName=name))
    with pytest.raises(ConfigError, match=rf"databaseName '{name}' is reserved by PostgreSQL"):
        load_catalog_text(catalog)


def test_an_ordinary_database_name_is_accepted() -> None:
    catalog = _catalog(lambda services: services["persona"]["data"].update(databaseName="persona_users"))
    assert load_catalog_text(catalog).services["persona"].data is not None


# --- primary and standby alike -----------------------------------------------------------------------

def test_a_standby_without_dns_while_its_primary_has_it_is_refused(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)
    _edit_stack(project, "prod-euw1", lambda config: config.pop(f"{NS}:dns"))
    with pytest.raises(ConfigError, match=rf"{NS}:dns is not set, but the primary 'prod' has dns"):
        load_stack("prod-euw1", project)


def test_a_standby_splitting_routed_services_over_load_balancers_differently_is_refused(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)
    _edit_stack(project, "prod-euw1",
                lambda config: config.__setitem__(f"{NS}:loadBalancers", {"maxRoutedServicesPerAlb": 1}))
    with pytest.raises(ConfigError, match=r"loadBalancers\.maxRoutedServicesPerAlb = 1 routes \S+ through load "
                                          r"balancer \d, the primary 'prod' through load balancer \d"):
        load_stack("prod-euw1", project)


def test_a_standby_splitting_like_its_primary_is_accepted(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)
    for stack in ("prod", "prod-euw1"):
        _edit_stack(project, stack,
                    lambda config: config.__setitem__(f"{NS}:loadBalancers", {"maxRoutedServicesPerAlb": 2}))
    assert len(load_stack("prod-euw1", project).alb_shards) >= 2
