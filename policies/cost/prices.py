"""Load and validate the unit price file (``platform/prices.yaml``).

The file is data the pack and the preview share; a broken file must never turn into a silently
wrong estimate, so any problem (YAML syntax, a duplicate key, a missing or unknown price, a rate
that is not a positive number) raises :class:`PriceFileError` with one short message naming the
file, the key and what is allowed. Callers with a command line turn it into exit code 2.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

# Where the pack finds the file unless its policy config says otherwise: the pack directory is
# policies/, the price data lives next to the program's other platform data.
PACK_DIR = Path(__file__).resolve().parent.parent
DEFAULT_PRICES_FILE = (PACK_DIR / ".." / "platform" / "prices.yaml").resolve()


class PriceFileError(ValueError):
    """The price file cannot be used; the message names the file, the key and what is allowed."""


class _Model(BaseModel):
    # allow_inf_nan: a price or rate of infinity is a typo, never data.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True,
                              allow_inf_nan=False)


class Price(_Model):
    """One unit price with its provenance."""

    usd: float = Field(strict=True, description="USD per unit; > 0 unless free")
    source: str = Field(pattern=r"^https://\S+$", description="the AWS pricing page the figure comes from")
    as_of: date
    confidence: Literal["published", "estimated"] = "published"
    reason: str | None = Field(default=None, min_length=10)
    free: bool = False

    @model_validator(mode="after")
    def _rate_and_provenance(self) -> Price:
        if self.free and self.usd != 0:
            raise ValueError("a free item has usd: 0")
        if not self.free and not self.usd > 0:
            raise ValueError("usd must be a positive number (mark a free item with free: true and usd: 0)")
        if self.confidence == "estimated" and not self.reason:
            raise ValueError("an estimated price needs a reason (why the published figure was not used)")
        return self


class RegionPrices(_Model):
    """Every unit price the estimator uses, for one Region. All are required: a price the
    estimator needs but the file lacks must fail loudly, never count as zero."""

    fargate_x86_vcpu_hour: Price
    fargate_x86_gb_hour: Price
    fargate_arm_vcpu_hour: Price
    fargate_arm_gb_hour: Price
    fargate_spot_x86_vcpu_hour: Price
    fargate_spot_x86_gb_hour: Price
    fargate_spot_arm_vcpu_hour: Price
    fargate_spot_arm_gb_hour: Price
    fargate_windows_vcpu_hour: Price
    fargate_windows_gb_hour: Price
    fargate_windows_license_vcpu_hour: Price
    fargate_ephemeral_storage_gb_hour: Price
    # Per instance type / DB instance class; a type the table lacks is reported unpriced, never zero.
    ec2_instance_hour: dict[str, Price] = Field(alias="ec2InstanceHour", min_length=1)
    ebs_gp3_gb_month: Price
    rds_instance_hour: dict[str, Price] = Field(min_length=1)
    rds_gp3_gb_month: Price
    dynamodb_wcu_hour: Price
    dynamodb_rcu_hour: Price
    aurora_global_replicated_write_io_million: Price
    xray_traces_recorded_million: Price
    nat_gateway_hour: Price
    nat_gateway_gb: Price
    public_ipv4_hour: Price
    alb_hour: Price
    alb_lcu_hour: Price
    interface_endpoint_az_hour: Price
    interface_endpoint_gb: Price
    private_ca_short_lived_month: Price
    private_ca_general_purpose_month: Price
    private_ca_short_lived_certificate: Price
    route53_hosted_zone_month: Price
    route53_health_check_aws_month: Price
    route53_health_check_non_aws_month: Price
    arc_region_switch_plan_month: Price
    route53_health_check_option_aws_month: Price
    route53_health_check_option_non_aws_month: Price
    cloudwatch_logs_ingest_gb: Price
    cloudwatch_logs_storage_gb_month: Price
    cloudwatch_custom_metric_month: Price
    cloudwatch_alarm_standard_metric_month: Price
    cloudwatch_alarm_high_res_metric_month: Price
    cloudwatch_composite_alarm_month: Price
    cloudwatch_dashboard_month: Price
    secrets_manager_secret_month: Price
    secrets_manager_api10k: Price = Field(alias="secretsManagerApi10k")
    kms_key_month: Price
    kms_requests10k: Price = Field(alias="kmsRequests10k")
    ecr_storage_gb_month: Price
    ssm_standard_parameter_month: Price
    ssm_advanced_parameter_month: Price
    s3_standard_gb_month: Price
    dynamodb_write_million: Price
    dynamodb_read_million: Price
    dynamodb_storage_gb_month: Price
    dynamodb_pitr_gb_month: Price
    aurora_serverless_v2_acu_hour: Price
    aurora_storage_gb_month: Price
    aurora_io_million: Price
    sqs_standard_million: Price
    sqs_fifo_million: Price
    event_bridge_events_million: Price
    event_bridge_archive_gb: Price
    event_bridge_archive_storage_gb_month: Price
    event_bridge_pipes_million: Price
    cloud_trail_first_management_copy: Price
    cloud_trail_management100k: Price = Field(alias="cloudTrailManagement100k")
    cloud_trail_data100k: Price = Field(alias="cloudTrailData100k")
    sns_publish_million: Price
    sns_email100k: Price = Field(alias="snsEmail100k")
    budget_month: Price
    lambda_request_million: Price
    lambda_arm_gb_second: Price
    lambda_x86_gb_second: Price

    def usd(self, name: str) -> float:
        price: Price = getattr(self, name)
        return price.usd


class Currency(_Model):
    eur_to_usd: float = Field(strict=True, gt=0, description="USD per EUR")
    as_of: date


class PriceBook(_Model):
    """The whole price file."""

    currency: Currency
    hours_per_month: float = Field(strict=True, gt=0, le=744)
    regions: dict[str, RegionPrices] = Field(min_length=1)

    def region(self, name: str | None) -> RegionPrices | None:
        return self.regions.get(name) if name else None

    def usd_to_eur(self, usd: float) -> float:
        return usd / self.currency.eur_to_usd


if TYPE_CHECKING:  # the stubs type both loaders alike
    _SafeLoader = yaml.SafeLoader
else:
    _SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_SafeLoader):  # the C parser when built
    """SafeLoader that refuses a mapping with the same key twice (PyYAML keeps the last one)."""


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, str | int | float | bool | date) and key is not None:
            raise PriceFileError(f"a mapping key at line {key_node.start_mark.line + 1} is a "
                                 f"{type(key).__name__}; keys are plain names")
        if key in seen:
            raise PriceFileError(f"duplicate key '{key}' at line {key_node.start_mark.line + 1} (first at line "
                                 f"{seen[key]}); each key may appear once per mapping")
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)


def _key_path(location: tuple[Any, ...]) -> str:
    # pydantic appends validator names such as "function-after[...]" to the location; drop them.
    return ".".join(str(part) for part in location if not str(part).startswith("function-"))


def parse_prices(text: str, file: str = "platform/prices.yaml") -> PriceBook:
    """The validated price book of ``text``; :class:`PriceFileError` naming ``file`` otherwise."""
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except PriceFileError as error:
        raise PriceFileError(f"{file}: {error}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise PriceFileError(f"{file}: not valid YAML{where}: {getattr(error, 'problem', error)}") from None
    if not isinstance(data, dict):
        raise PriceFileError(f"{file}: the top level must be a mapping with currency, hoursPerMonth and regions, "
                             f"not {type(data).__name__}")
    try:
        return PriceBook.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        key = _key_path(first["loc"]) or "(top level)"
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "missing":
            message = "is required (see docs/cost-model.md for every price the estimator needs)"
        elif first["type"] == "extra_forbidden":
            message = "is not a known key (allowed: the price names in docs/cost-model.md)"
        more = error.error_count() - 1
        tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        raise PriceFileError(f"{file}: {key}: {message}{tail}") from None


@lru_cache(maxsize=8)
def _load_cached(path: str, mtime_ns: int) -> PriceBook:
    return parse_prices(Path(path).read_text(encoding="utf-8"), file=path)


def load_prices(path: Path | str = DEFAULT_PRICES_FILE) -> PriceBook:
    """The price book at ``path`` (cached per file version)."""
    resolved = Path(path).resolve()
    try:
        mtime = resolved.stat().st_mtime_ns
    except OSError as error:
        raise PriceFileError(f"{path}: cannot read the price file ({error.strerror})") from None
    return _load_cached(str(resolved), mtime)
