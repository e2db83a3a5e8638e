"""Property: whatever the project's config files say, loading a stack either yields settings that keep
the product rules, or stops with one short ConfigError naming the file or key. Never another exception.

The files are the real ones (stack files, Pulumi.yaml, the catalog, the price data), mutated: keys
deleted, types changed, huge, unicode and control-character strings, deep nesting, duplicate keys,
lists for maps, negative numbers, unknown enum values. Bounded to a few seconds; set CONFIG_FUZZ_EXAMPLES
to explore further.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foundation.settings import ConfigError, eur_to_usd, list_stacks, load_catalog, load_stack, prices_file
from foundation.settings.catalog import catalog_file
from foundation.settings.quotas import load_quota_table

PROJECT_DIR = Path(__file__).resolve().parent.parent
STACK_FILES = sorted(p.name for p in PROJECT_DIR.glob("Pulumi.*.yaml"))
FILES = ["Pulumi.yaml", *STACK_FILES, "platform/services.yaml", "platform/prices.yaml", "platform/quotas.yaml"]
ORIGINALS = {name: (PROJECT_DIR / name).read_text() for name in FILES}
EXAMPLES = int(os.environ.get("CONFIG_FUZZ_EXAMPLES", "30"))

MAX_MESSAGE_CHARACTERS = 500
MAX_MESSAGE_LINES = 4

# Values that are plausible, almost right, or plain hostile.
NEAR_MISSES = ["", " ", "0.0.0.0/16", "10.0.0.0/8", "192.168.0.0/16", "172.32.0.0/16", "../health", "/a/../b",
               "/health/..", "//", "/API", "/api", "/api/auth/x", "Z", "z123", "a@b", "a@b.c", "x@example.com\n",
               "staging", "prod", "qa", "primary", "standby", "eu-west-2", "us-east-1", "acme/x/staging",
               "acme/microservices-foundation/staging-euw1", "acme/microservices-foundation/prod-euw1",
               "acme/microservices-foundation/nope", "123456789012", "12345678901", "sha256:abc", "latest",
               "a" * 300, "\x00", "tab\there", "é" * 10, "CANARY", "LINEAR", "BLUE_GREEN", "ROLLING", "none",
               "single", "one-per-az", "ARM64", "X86_64", "IMMUTABLE", "Z04517273FCLIMSHKTNC1", "true", "1e400",
               "nan", "-1", "0", "{", "[1", "a: b", "!!python/object:os.system", "&a [*a]", "https:///hook",
               "https://?x=1", "https://pager.example/hook", "user", "select", "postgres", "pk", "payload",
               "detailType", "ops <team>", "te\u0301st", "line\nbreak", "outbox#1", "N", "S", "B", "INCLUDE",
               float("inf"), float("nan"), True, False, 1e-9, 10**12]
# Keys added with data, events, alarms, cost and sharding, with where they live: the fuzzer writes hostile
# values at these paths too, not only where the committed files already have a value.
NEWER_KEYS = [
    ("Pulumi.prod.yaml", ("config", "microservices-foundation:loadBalancers", "maxRoutedServicesPerAlb")),
    ("Pulumi.prod-euw1.yaml", ("config", "microservices-foundation:loadBalancers", "maxRoutedServicesPerAlb")),
    ("Pulumi.prod-euw1.yaml", ("config", "microservices-foundation:dns")),
    ("Pulumi.staging.yaml", ("config", "microservices-foundation:quotas", "targetsPerAlb")),
    ("Pulumi.prod.yaml", ("config", "microservices-foundation:alerts", "httpsEndpoint")),
    ("Pulumi.staging.yaml", ("config", "microservices-foundation:budget", "monthlyEur")),
    ("Pulumi.prod.yaml", ("config", "microservices-foundation:budget", "approval")),
    ("Pulumi.prod.yaml", ("config", "microservices-foundation:costAssumptions", "albLcu")),
    ("Pulumi.yaml", ("config", "tags", "value", "owner")),
    ("platform/services.yaml", ("services", "persona", "data", "databaseName")),
    ("platform/services.yaml", ("services", "persona", "data", "maxCapacity")),
    ("platform/services.yaml", ("services", "vc-start", "data", "sortKey")),
    ("platform/services.yaml", ("services", "vc-start", "data", "sortKey", "type")),
    ("platform/services.yaml", ("services", "vc-start", "data", "ttlAttribute")),
    ("platform/services.yaml", ("services", "vc-start", "data", "indexes", 0, "sortKey", "name")),
    ("platform/services.yaml", ("services", "upload", "publishes", 0)),
    ("platform/services.yaml", ("services", "vc-start", "subscribes", 0, "maxReceives")),
    ("platform/services.yaml", ("services", "upload", "config", "MAX_UPLOAD_MB")),
    ("platform/services.yaml", ("services", "auth", "max_tasks")),
    ("platform/prices.yaml", ("currency", "eurToUsd")),
    ("platform/quotas.yaml", ("quotas", "rulesPerSecurityGroup")),
    ("platform/quotas.yaml", ("quotas", "targetsPerAlb", "value")),
]
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-2**40, max_value=2**40), st.sampled_from([0, -1, 1, 65536]),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(NEAR_MISSES), st.dates(), st.binary(max_size=8),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40),
    st.just("x" * 200_000))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.text(max_size=12), st.sampled_from(NEAR_MISSES)),
                                                 inner, max_size=4)), max_leaves=12)


def _paths(document: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(document, dict):
        for key, value in document.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found += _paths(value, (*prefix, index))
    return found


def _set(document: Any, path: tuple, value: Any, delete: bool) -> Any:
    if not path:
        return value
    parent = document
    for part in path[:-1]:
        parent = parent[part]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return document


@st.composite
def mutated_file(draw) -> tuple[str, str]:
    """(file name, new text) for one of the project's files."""
    kind = draw(st.sampled_from(["value", "value", "value", "delete", "deep", "duplicate", "text", "newer",
                                 "newer"]))
    if kind == "newer":
        name, key_path = draw(st.sampled_from(NEWER_KEYS))
        document = yaml.safe_load(ORIGINALS[name])
        parent = document
        for part in key_path[:-1]:
            parent = parent.setdefault(part, {}) if isinstance(parent, dict) else parent[part]
        if draw(st.booleans()) and isinstance(parent, dict) and key_path[-1] in parent:
            del parent[key_path[-1]]
        else:
            parent[key_path[-1]] = draw(st.one_of(st.sampled_from(NEAR_MISSES), VALUES))
        return name, yaml.safe_dump(document, allow_unicode=True, width=10**9)
    name = draw(st.sampled_from(FILES))
    text = ORIGINALS[name]
    if kind == "text":
        # Raw edits that no YAML dumper would write: broken syntax, tabs, a truncated file.
        cut = draw(st.integers(min_value=0, max_value=len(text)))
        insert = draw(st.sampled_from(["\t", ":", "- ", "{", "'", "&a", "*a", "\x07", "---\n", "%YAML 1.1\n"]))
        return name, text[:cut] + insert + text[cut:]
    document = yaml.safe_load(text)
    path = draw(st.sampled_from(_paths(document)))
    if kind == "duplicate":
        # Repeat a top-level line of a mapping (YAML keys are unique; PyYAML would keep the last).
        lines = [line for line in text.splitlines() if re.match(r"^\s*[\w:.-]+:", line)]
        line = draw(st.sampled_from(lines))
        index = text.index(line)
        return name, text[:index] + line + "\n" + text[index:]
    if kind == "deep":
        value: Any = "leaf"
        for _ in range(draw(st.integers(min_value=15, max_value=400))):
            value = [value] if draw(st.booleans()) else {"k": value}
        document = _set(document, path, value, delete=False)
    else:
        document = _set(document, path, draw(VALUES), delete=kind == "delete" and bool(path))
    return name, yaml.safe_dump(document, allow_unicode=True, width=10**9)


def _project_with(name: str, text: str, workdir: Path) -> Path:
    for item in FILES:
        target = workdir / item
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(ORIGINALS[item] if item != name else text, encoding="utf-8")
    # The event schemas beside the catalog, unmutated: the catalog checks its subscriptions against them.
    shutil.copytree(PROJECT_DIR / "platform" / "schemas", workdir / "platform" / "schemas", dirs_exist_ok=True)
    return workdir


def product_rule_violations(settings, project: Path) -> list[str]:
    """An independent reading of the product rules for settings that loaded (the oracle)."""
    config, problems = settings.config, []
    cidr = config.network.vpc_cidr
    if not any(cidr.subnet_of(ipaddress.ip_network(b)) for b in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")):
        problems.append(f"vpcCidr {cidr} outside RFC 1918")
    for value in (config.tags.cost_center, config.tags.owner):
        if not 1 <= len(value) <= 256 or any(ord(c) < 32 or ord(c) == 127 for c in value):
            problems.append(f"tag value {value!r}")
    if settings.account_id is not None and not re.fullmatch(r"\d{12}", settings.account_id):
        problems.append(f"account {settings.account_id!r}")
    for email in config.budget.alert_emails:
        if len(email) > 254 or not re.fullmatch(r"[^@\s]+@([a-z0-9-]+\.)+[a-z]{2,}", email, re.I):
            problems.append(f"alert email {email!r}")
    if config.dns is not None and (len(config.dns.api_name) > 253 or len(config.dns.hosted_zone_id) > 32):
        problems.append("dns name or zone id too long")
    rate = eur_to_usd(prices_file(project))
    if not 0 < rate <= 100 or round(config.budget.monthly_eur * rate, 2) < 0.01:
        problems.append("exchange rate")
    approval = config.budget.approval
    for value in ((approval.reason, approval.approver) if approval else ()):
        if len(value) > 256 or any(unicodedata.category(c)[0] not in "LZN" and c not in "_.:/=+-@" for c in value):
            problems.append(f"approval tag value {value!r}")
    endpoint = config.alerts.https_endpoint
    if endpoint is not None and not re.fullmatch(r"https://[^/?#@\s]+(/\S*)?", endpoint):
        problems.append(f"alert endpoint {endpoint!r}")
    if settings.role == "standby":
        primary = config.failover.primary_stack.rsplit("/", 1)[-1]
        if primary == settings.stack or primary not in list_stacks(project):
            problems.append(f"primaryStack {config.failover.primary_stack}")
    for name, declared in settings.data_and_events.items():
        data = declared.data
        if data is not None and data.kind == "postgres" and data.database_name in ("user", "select", "postgres"):
            problems.append(f"{name} database name {data.database_name}")
        if data is not None and data.kind == "dynamodb":
            if data.sort_key is not None and data.sort_key.name == data.partition_key.name:
                problems.append(f"{name} partition key is its sort key")
            if data.outbox and data.ttl_attribute in ("kind", "eventId", "detailType", "occurredAt", "payload"):
                problems.append(f"{name} TTL on an outbox attribute")
    prefixes = [s.path_prefix for s in settings.services if s.path_prefix]
    for service in settings.services:
        for path in (service.path_prefix or "/", service.health_path, config.failover.health_check_path):
            if ".." in path.split("/") or "//" in path or len(path) > 128:
                problems.append(f"path {path!r}")
        if service.name in service.calls:
            problems.append(f"{service.name} calls itself")
    for a in prefixes:
        if any(b != a and b.startswith(a + "/") for b in prefixes):
            problems.append(f"prefix {a} swallows another service's routes")
    return problems


def assert_contract(name: str, text: str, stack: str) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        project = _project_with(name, text, Path(workdir))
        try:
            load_quota_table(project / "platform" / "quotas.yaml")
            settings = load_stack(stack, project)
            load_catalog(catalog_file(project))
        except ConfigError as error:
            message = str(error)
            assert len(message) <= MAX_MESSAGE_CHARACTERS, f"{len(message)} characters: {message[:300]}..."
            assert len(message.splitlines()) <= MAX_MESSAGE_LINES, message
            # names a file, or a key with its namespace
            assert any(word in message for word in ("Pulumi.", "services.yaml", "prices.yaml", "quotas.yaml", "aws:",
                                                    "microservices-foundation:")), message
            return
        violations = product_rule_violations(settings, project)
        assert not violations, f"{name} accepted although {violations}"


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutation=mutated_file(), data=st.data())
def test_any_mutated_config_file_loads_correctly_or_fails_with_one_short_message(mutation, data):
    name, text = mutation
    stem = Path(name).name
    stack = stem[len("Pulumi."):-len(".yaml")] if stem in STACK_FILES else data.draw(
        st.sampled_from([s[len("Pulumi."):-len(".yaml")] for s in STACK_FILES]))
    assert_contract(name, text, stack)


def test_the_unmutated_files_load_for_every_stack():
    for stem in STACK_FILES:
        assert_contract("Pulumi.yaml", ORIGINALS["Pulumi.yaml"], stem[len("Pulumi."):-len(".yaml")])
