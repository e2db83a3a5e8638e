"""AWS quotas: the table (platform/quotas.yaml), each account's raised values, and each stack's usage.

The preview must fail before AWS would. So the usage of every counted quota is computed from the resolved
settings, as the worst case the stack can reach (every service at `maxTasks`, one blue/green deployment in
flight), and compared with the quota; a quota that would be exceeded ends in one `ConfigError` per stack
naming the quota, where, the usage, the limit and what to change.

Why from the settings and not from the registered resources: the settings exist before any resource does,
so the check runs in `pulumi preview`, `pulumi up` and the offline preview alike, and it reports against
config keys; registrations would only be known after the program ran, and only offline. What keeps the
two in step is a test that counts the same quotas in a real offline run (tests/test_quotas.py). Quotas of
a whole account (IAM roles, Elastic IPs, health checks) sum over the stack files of that account:
`check_account_quotas`, called from the cross-stack checks. Design and the full list: docs/scale.md.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field, ValidationError, model_validator

from components.mesh_service.args import ServiceDefinition
from components.regional_platform.args import alb_name
from components.regional_platform.endpoints import interface_endpoint_services
from components.regional_platform.network import NAT_GATEWAYS_PER_STRATEGY
from foundation.settings.base import ConfigError, format_validation_error
from foundation.settings.base import Model as _Model
from foundation.settings.catalog import PROJECT_DIR
from foundation.settings.yaml_files import load_yaml

if TYPE_CHECKING:
    from foundation.settings.stack_settings import StackSettings

QUOTAS_FILE = PROJECT_DIR / "platform" / "quotas.yaml"
# AWS: "This quota [rules per security group] multiplied by the quota for security groups per network
# interface cannot exceed 1,000." https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html
SECURITY_GROUP_RULE_PRODUCT_MAX = 1000
# Target groups per routed service: the blue/green pair ECS shifts traffic between.
TARGET_GROUPS_PER_ROUTED_SERVICE = 2


class Quota(_Model):
    name: str
    # None: AWS sets the default per account; the quota is listed, not counted.
    value: int | None = Field(ge=1)
    adjustable: bool
    maximum: int | None = Field(default=None, ge=1)
    scope: str
    source: str = Field(pattern=r"^https://docs\.aws\.amazon\.com/")
    verified: bool


# The quotas this module counts (stack_usage, account_footprint, the security group rule product): each
# needs its row with a value, or its check would silently not run.
COUNTED_QUOTAS = frozenset({
    "targetGroupsPerAlb", "rulesPerAlb", "targetsPerAlb", "targetGroupsPerAction", "rulesPerSecurityGroup",
    "securityGroupsPerNetworkInterface", "tasksPerService", "cloudMapInstancesPerService", "servicesPerCluster",
    "cloudMapInstancesPerNamespace", "interfaceEndpointsPerVpc", "iamRolesPerAccount", "albsPerRegion",
    "elasticIpsPerRegion", "route53HealthChecksPerAccount", "ssmStandardParametersPerRegion", "secretsPerRegion",
    "cloudMapNamespacesPerRegion", "ecrRepositoriesPerRegion", "logGroupsPerRegion", "securityGroupsPerRegion",
    "targetGroupsPerRegion"})


class QuotaTable(_Model):
    quotas: dict[str, Quota] = Field(min_length=1)

    @model_validator(mode="after")
    def _every_counted_quota_has_its_row(self) -> QuotaTable:
        for key in sorted(COUNTED_QUOTAS):
            quota = self.quotas.get(key)
            if quota is None:
                raise ValueError(f"quotas.{key} is missing: the program counts this quota, so its row (name, "
                                 "value, adjustable, scope, source, verified) is required")
            if quota.value is None:
                raise ValueError(f"quotas.{key}.value is null: the program counts this quota and needs its "
                                 "default value")
        return self

    def quota(self, key: str) -> Quota:
        return self.quotas[key]


@functools.cache
def load_quota_table(path: Path = QUOTAS_FILE) -> QuotaTable:
    try:
        return QuotaTable.model_validate(load_yaml(path, "the AWS quota table"))
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, _shown_path(path), prefix="")) from None


def _shown_path(path: Path) -> str:
    return path.relative_to(PROJECT_DIR).as_posix() if path.is_relative_to(PROJECT_DIR) else str(path)


@dataclass(frozen=True)
class Usage:
    """How much of one quota one place of the stack uses, and what lowers it."""

    quota: str
    where: str
    used: int
    remedy: str


def effective_limits(stack: str, prefix: str, overrides: Mapping[str, int],
                     table: QuotaTable | None = None) -> dict[str, int]:
    """Quota key -> the limit that applies to this stack's account: the table's default, or the raised
    value the stack states. Only adjustable quotas can be raised, never above AWS's stated maximum."""
    table = table or load_quota_table()
    limits = {key: quota.value for key, quota in table.quotas.items() if quota.value is not None}
    for key, value in overrides.items():
        where = f"stack '{stack}': {prefix}quotas.{key} = {value}"
        quota = table.quotas.get(key)
        if quota is None:
            raise ConfigError(f"{where} is not allowed: not a quota of platform/quotas.yaml; adjustable ones: "
                              f"{sorted(k for k, q in table.quotas.items() if q.adjustable)}")
        if not quota.adjustable:
            raise ConfigError(f"{where} is not allowed: '{quota.name}' ({quota.value}) is not adjustable, AWS "
                              f"does not raise it ({quota.source}); change the design instead")
        if quota.maximum is not None and value > quota.maximum:
            raise ConfigError(f"{where} is not allowed: AWS raises '{quota.name}' to at most {quota.maximum}")
        limits[key] = value
    product = limits["rulesPerSecurityGroup"] * limits["securityGroupsPerNetworkInterface"]
    if product > SECURITY_GROUP_RULE_PRODUCT_MAX:
        raise ConfigError(
            f"stack '{stack}': {prefix}quotas: rulesPerSecurityGroup ({limits['rulesPerSecurityGroup']}) × "
            f"securityGroupsPerNetworkInterface ({limits['securityGroupsPerNetworkInterface']}) = {product} is "
            f"not allowed: AWS keeps the product at most {SECURITY_GROUP_RULE_PRODUCT_MAX} (raising one lowers "
            "the other)")
    return limits


# --- usage of one stack ------------------------------------------------------------------------------

def security_groups_per_task(service: ServiceDefinition) -> int:
    """Security groups on one task's network interface: its own and the client group of each callee."""
    return 1 + len(service.calls)


def security_group_rules(services: Sequence[ServiceDefinition], *, has_nat: bool = True,
                         database_services: frozenset[str] = frozenset()) -> dict[str, tuple[int, int]]:
    """Service -> (ingress, egress) rules on its task security group, as MeshService creates them: one
    ingress from its client group when anything calls it, one from its ALB when routed; HTTPS out (one
    rule with NAT; the VPC endpoints and the S3 prefix list without), PostgreSQL to its own database. The
    client groups hold one egress rule each. None of this grows with the call graph."""
    called = {callee for service in services for callee in service.calls}
    https_out = 1 if has_nat else 2
    return {s.name: ((1 if s.name in called else 0) + (1 if s.routed else 0),
                     https_out + (1 if s.name in database_services else 0)) for s in services}


def database_services(settings: StackSettings) -> frozenset[str]:
    """The services of this stack that own a PostgreSQL database (their tasks get an egress rule to it)."""
    running = {s.name for s in settings.services}
    return frozenset(name for name, declared in settings.data_and_events.items()
                     if name in running and declared.data is not None and declared.data.kind == "postgres")


def stack_usage(settings: StackSettings) -> list[Usage]:
    """Every counted quota's usage in one stack, worst case."""
    key = f"{settings.project}:"
    environment, region, services = settings.environment, settings.region, settings.services
    per_alb = settings.config.load_balancers.max_routed_services_per_alb
    split = (f"split the routed services over more load balancers: lower {key}loadBalancers."
             f"maxRoutedServicesPerAlb (now {per_alb})")
    shards = settings.alb_shards
    usages: list[Usage] = []
    listener_ports = 2 if settings.config.dns else 1
    for number, shard in enumerate(shards, 1):
        where = f"load balancer {alb_name(environment, region, number)}"
        usages += [
            Usage("targetGroupsPerAlb", where, TARGET_GROUPS_PER_ROUTED_SERVICE * len(shard), split),
            Usage("rulesPerAlb", where, len(shard), f"{split}, or raise {key}quotas.rulesPerAlb"),
            # One deployment in flight runs the new revision at full size next to the old one.
            Usage("targetsPerAlb", where,
                  sum(s.max_tasks for s in shard) + max((s.max_tasks for s in shard), default=0),
                  f"{split}, lower maxTasks, or raise {key}quotas.targetsPerAlb"),
            Usage("rulesPerSecurityGroup", f"egress of the security group of {where}", len(shard),
                  f"{split}, or raise {key}quotas.rulesPerSecurityGroup"),
            Usage("rulesPerSecurityGroup", f"ingress of the security group of {where}", listener_ports,
                  f"raise {key}quotas.rulesPerSecurityGroup"),
        ]
    if any(s.routed for s in services):
        usages.append(Usage("targetGroupsPerAction", "the forward action of each routed service's listener rule",
                            TARGET_GROUPS_PER_ROUTED_SERVICE, "forward to fewer target groups"))
    rules = security_group_rules(services, has_nat=settings.config.network.nat_strategy != "none",
                                 database_services=database_services(settings))
    for service in services:
        ingress, egress = rules[service.name]
        where = f"the task security group of {service.name}"
        usages += [
            Usage("rulesPerSecurityGroup", f"ingress of {where}", ingress,
                  f"raise {key}quotas.rulesPerSecurityGroup"),
            Usage("rulesPerSecurityGroup", f"egress of {where}", egress,
                  f"raise {key}quotas.rulesPerSecurityGroup"),
            Usage("securityGroupsPerNetworkInterface", f"each task of {service.name}",
                  security_groups_per_task(service),
                  f"{service.name} may call fewer services, or raise "
                  f"{key}quotas.securityGroupsPerNetworkInterface (AWS: at most 16)"),
            Usage("tasksPerService", f"service {service.name}", service.max_tasks, "lower its maxTasks"),
            # During a deployment both task sets are registered in the service's Cloud Map service.
            Usage("cloudMapInstancesPerService", f"service {service.name} during a deployment", 2 * service.max_tasks,
                  "lower its maxTasks (the quota is not adjustable)"),
        ]
    usages += [
        Usage("servicesPerCluster", f"cluster of {settings.stack}", len(services), "run fewer services per stack"),
        Usage("cloudMapInstancesPerNamespace", f"Service Connect namespace of {settings.stack}",
              sum(s.max_tasks for s in services) + max((s.max_tasks for s in services), default=0),
              f"lower maxTasks or raise {key}quotas.cloudMapInstancesPerNamespace"),
        Usage("interfaceEndpointsPerVpc", f"VPC of {settings.stack}",
              len(interface_endpoint_services(settings.config.network.nat_strategy, True,
                                              settings.config.tracing.enabled)),
              f"raise {key}quotas.interfaceEndpointsPerVpc"),
    ]
    return usages


# --- usage of an account -----------------------------------------------------------------------------

def account_footprint(settings: StackSettings) -> dict[str, int]:
    """What one stack adds to quotas counted per account (and region, where the quota is regional)."""
    roles = 2 * len(settings.services) + 1  # execution + task role each; the ALB traffic-shift role
    roles += 1 if settings.config.service_connect.tls else 0
    roles += 1 if settings.role == "standby" else 0  # the ECR replica template's role
    azs = settings.config.network.az_count
    return {
        "iamRolesPerAccount": roles,
        "albsPerRegion": len(settings.alb_shards),
        "elasticIpsPerRegion": NAT_GATEWAYS_PER_STRATEGY[settings.config.network.nat_strategy](azs),
        "route53HealthChecksPerAccount": len(settings.alb_shards) if settings.config.dns and settings.role == "primary" else 0,
        "ssmStandardParametersPerRegion": sum(len(s.config) for s in settings.services),
        "secretsPerRegion": sum(len(s.secrets) for s in settings.services),
        "logGroupsPerRegion": len(settings.services),
        "ecrRepositoriesPerRegion": len(settings.services),
        "cloudMapNamespacesPerRegion": 1,
        "targetGroupsPerRegion": TARGET_GROUPS_PER_ROUTED_SERVICE * sum(s.routed for s in settings.services),
        # Task and client groups, one per ALB, the endpoints' group.
        "securityGroupsPerRegion": 2 * len(settings.services) + len(settings.alb_shards) + 1,
    }


# Account-wide quotas that are global (IAM, Route 53); every other one counts per account and region.
GLOBAL_QUOTAS = frozenset({"iamRolesPerAccount", "route53HealthChecksPerAccount"})


def account_usage(peers: Iterable[StackSettings]) -> list[tuple[Usage, tuple[str, ...]]]:
    """Sums of the account-wide quotas over stacks in one account: (usage, the stacks it sums)."""
    totals: dict[tuple[str, str], int] = defaultdict(int)
    members: dict[tuple[str, str], list[str]] = defaultdict(list)
    for peer in peers:
        for quota, used in account_footprint(peer).items():
            scope = "all regions" if quota in GLOBAL_QUOTAS else peer.region
            totals[(quota, scope)] += used
            members[(quota, scope)].append(peer.stack)
    return [(Usage(quota, f"account {scope}", used, "split the stacks over more accounts or raise the quota"),
             tuple(members[(quota, scope)])) for (quota, scope), used in sorted(totals.items())]


# --- checks ------------------------------------------------------------------------------------------

def _exceeded(usage: Usage, limits: Mapping[str, int], table: QuotaTable) -> str | None:
    limit = limits.get(usage.quota)
    if limit is None or usage.used <= limit:
        return None
    quota = table.quota(usage.quota)
    kind = "adjustable" if quota.adjustable else "not adjustable"
    return (f"AWS quota '{quota.name}' ({usage.quota}, {kind}) exceeded in {usage.where}: {usage.used} needed, "
            f"limit {limit}; {usage.remedy}")


def quota_problems(settings: StackSettings, table: QuotaTable | None = None) -> list[str]:
    table = table or load_quota_table()
    limits = effective_limits(settings.stack, f"{settings.project}:", settings.config.quotas, table)
    return [problem for usage in stack_usage(settings) if (problem := _exceeded(usage, limits, table))]


def check_stack_quotas(settings: StackSettings, table: QuotaTable | None = None) -> None:
    problems = quota_problems(settings, table)
    if problems:
        raise ConfigError("\n".join(f"stack '{settings.stack}': {problem}" for problem in problems))


def check_account_quotas(settings: StackSettings, same_account: Sequence[StackSettings],
                         table: QuotaTable | None = None) -> None:
    """Quotas of the whole account, summed over the stack files that share `settings`' account. The
    limits are this stack's (each stack of an account should state the same raised values)."""
    table = table or load_quota_table()
    limits = effective_limits(settings.stack, f"{settings.project}:", settings.config.quotas, table)
    problems = []
    for usage, stacks in account_usage(same_account):
        if settings.stack in stacks and (problem := _exceeded(usage, limits, table)):
            problems.append(f"{problem} (stacks {', '.join(stacks)})")
    if problems:
        raise ConfigError("\n".join(f"stack '{settings.stack}': {problem}" for problem in problems))
