"""The price file loads, and every kind of broken price file is one short error naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from policies.cost.prices import DEFAULT_PRICES_FILE, PriceFileError, load_prices, parse_prices

PRICES_TEXT = DEFAULT_PRICES_FILE.read_text(encoding="utf-8")


def _error(text: str) -> str:
    with pytest.raises(PriceFileError) as raised:
        parse_prices(text, file="prices.yaml")
    message = str(raised.value)
    assert message.startswith("prices.yaml: ") and "\n" not in message
    return message


def test_the_repository_price_file_prices_every_stack_region_with_a_source_for_every_entry():
    book = load_prices()
    # us-east-1 carries the Route 53 failover alarm, its key and topic.
    assert set(book.regions) == {"eu-central-1", "eu-west-1", "us-east-1"}
    for region in book.regions.values():
        for name in type(region).model_fields:
            value = getattr(region, name)
            for price in value.values() if isinstance(value, dict) else [value]:
                assert price.source.startswith("https://aws.amazon.com/"), name
                assert price.confidence == "published" or price.reason, name


def test_the_budget_conversion_rate_keeps_its_key_for_the_program():
    # foundation/settings.py reads currency.eurToUsd from the same file to set the budget in USD.
    assert load_prices().currency.eur_to_usd > 0


def test_yaml_syntax_error_names_the_line():
    assert "not valid YAML at line" in _error("currency: {eurToUsd: 1.16\n")


def test_duplicate_key_is_refused_with_both_lines():
    message = _error(PRICES_TEXT.replace("hoursPerMonth: 730", "hoursPerMonth: 730\nhoursPerMonth: 720"))
    assert "duplicate key 'hoursPerMonth'" in message


def test_top_level_must_be_a_mapping():
    assert "top level must be a mapping" in _error("- 1\n- 2\n")


def test_missing_price_names_the_region_and_key():
    text = "\n".join(line for line in PRICES_TEXT.splitlines() if not line.strip().startswith("albLcuHour:"))
    message = _error(text)
    assert "regions.eu-central-1.albLcuHour: is required" in message


def test_unknown_price_name_is_refused():
    message = _error(PRICES_TEXT.replace("    albHour:", "    albHours:", 1))
    assert "albHours" in message or "albHour: is required" in message


@pytest.mark.parametrize("value", ["0", "-0.01"])
def test_non_positive_rate_is_refused_unless_marked_free(value):
    message = _error(PRICES_TEXT.replace("natGatewayHour: {usd: 0.052", f"natGatewayHour: {{usd: {value}", 1))
    assert "regions.eu-central-1.natGatewayHour" in message and "positive" in message


@pytest.mark.parametrize("value", ['"0.05"', "true", "[1]"])
def test_rate_of_the_wrong_type_is_refused(value):
    message = _error(PRICES_TEXT.replace("albHour: {usd: 0.027", f"albHour: {{usd: {value}", 1))
    assert "regions.eu-central-1.albHour.usd" in message and "valid number" in message


def test_estimated_price_without_reason_is_refused():
    line = next(item for item in PRICES_TEXT.splitlines() if item.strip().startswith("albHour:"))
    without_reason = line.split(", reason:")[0] + "}"
    assert "needs a reason" in _error(PRICES_TEXT.replace(line, without_reason, 1))


def test_unreadable_file_is_a_price_file_error(tmp_path: Path):
    with pytest.raises(PriceFileError, match="cannot read the price file"):
        load_prices(tmp_path / "missing.yaml")


def test_the_program_reads_the_rate_through_the_same_validation_and_fails_as_a_config_error(tmp_path: Path):
    from foundation.settings import ConfigError
    from foundation.settings.stack_settings import eur_to_usd

    broken = tmp_path / "prices.yaml"
    broken.write_text(PRICES_TEXT.replace("eurToUsd: 1.16", "eurToUsd: -1"))
    with pytest.raises(ConfigError, match=r"prices.yaml: currency.eurToUsd"):
        eur_to_usd(broken)
    assert eur_to_usd() == load_prices().currency.eur_to_usd
