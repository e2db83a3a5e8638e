"""Rules that span the stack files of this project (all `Pulumi.<stack>.yaml` live side by side)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from components.failover.registry_replication import ReplicationStackFacts, replication_problems
from components.observability.audit import AuditStackFacts, audit_ownership_problems
from foundation.settings.base import ConfigError, shortened
from foundation.settings.catalog import PROJECT_DIR, catalog_file, load_catalog
from foundation.settings.checked_settings import settings_from_config
from foundation.settings.quotas import check_account_quotas
from foundation.settings.stack_files import list_stacks, read_stack_file
from foundation.settings.stack_settings import StackSettings


def check_across_stacks(settings: StackSettings, project_dir: Path = PROJECT_DIR) -> None:
    """Rules that span the stack files of this project (all `Pulumi.<stack>.yaml` live side by side):
    the VPC CIDRs of one environment's regions must not overlap; in each AWS account exactly one stack
    owns ECR replication, with prefixes covering every repository; a standby runs only services its
    primary runs (their images and secrets come from the primary), at the primary's image tags, and serves
    the primary's API name."""
    catalog = load_catalog(catalog_file(project_dir))
    peers, invalid = [settings], []
    for other in list_stacks(project_dir):
        if other == settings.stack:
            continue
        try:
            peers.append(settings_from_config(other, read_stack_file(other, project_dir).config, catalog))
        except ConfigError:
            invalid.append(other)  # that stack's own run reports its problems

    def fail(message: str) -> ConfigError:
        skipped = f" (not compared: {invalid}, whose own config is invalid)" if invalid else ""
        return ConfigError(f"stack '{settings.stack}': {message}{skipped}")

    for peer in peers[1:]:
        if peer.environment != settings.environment or peer.region == settings.region:
            continue
        if settings.config.network.vpc_cidr.overlaps(peer.config.network.vpc_cidr):
            raise fail(f"{settings.project}:network.vpcCidr = '{settings.config.network.vpc_cidr}' overlaps "
                       f"stack '{peer.stack}' ({peer.region}, {peer.config.network.vpc_cidr}); the regions of "
                       "one environment need disjoint CIDRs")
    same_account = [p for p in peers if p.account_id == settings.account_id]
    check_account_quotas(settings, same_account)
    problems = replication_problems(ReplicationStackFacts(
        stack=p.stack, account_id=p.account_id or "unknown", environment=p.environment, region=p.region,
        role=p.role, is_replication_owner=p.config.registry_replication.owner,
        repository_prefixes=p.config.registry_replication.repository_prefixes,
        repository_names=tuple(p.repository_name(s.name) for s in p.services)) for p in same_account)
    if problems:
        more = f" (and {len(problems) - 2} more)" if len(problems) > 2 else ""
        raise fail(f"{settings.project}:registryReplication: "
                   + "; ".join(shortened(problem, 160) for problem in problems[:2]) + more)
    cost_owners = sorted(p.stack for p in same_account if p.config.cost_controls.owner)
    if len(cost_owners) != 1:
        raise fail(f"{settings.project}:costControls.owner: account {settings.account_id} needs exactly one owning "
                   f"stack of its cost allocation tags and anomaly monitor (owners: {cost_owners or 'none'})")
    problems = audit_ownership_problems(AuditStackFacts(
        stack=p.stack, account_id=p.account_id or "unknown", role=p.role, is_owner=p.config.audit.owner)
        for p in same_account)
    if problems:
        raise fail(f"{settings.project}:audit.owner: " + "; ".join(problems))
    if settings.role == "standby":
        primary_name = _primary_stack_name(settings, project_dir, fail)
        primary = next((p for p in peers if p.stack == primary_name), None)
        if primary is not None:
            _check_standby_fits_primary(settings, primary, fail)


def _primary_stack_name(standby: StackSettings, project_dir: Path, fail: Callable[[str], Exception]) -> str:
    """The stack `failover.primaryStack` (`<organization>/<project>/<stack>`) names: another stack of this
    project, whose file lives beside this one."""
    reference = standby.config.failover.primary_stack
    key = f"{standby.project}:failover.primaryStack = '{reference}'"
    if reference is None:
        raise fail(f"{standby.project}:failover.primaryStack is required of a standby")
    _, project, name = reference.split("/")
    if project != standby.project:
        raise fail(f"{key} names project '{project}'; the primary is a stack of this project, "
                   f"<organization>/{standby.project}/<stack>")
    if name == standby.stack:
        raise fail(f"{key} names this stack itself; name the {standby.environment} primary stack")
    known = list_stacks(project_dir)
    if name not in known:
        raise fail(f"{key} names stack '{name}', which has no Pulumi.{name}.yaml in this project "
                   f"(stacks: {known})")
    return name


def _check_standby_fits_primary(standby: StackSettings, primary: StackSettings,
                                fail: Callable[[str], Exception]) -> None:
    key = f"{standby.project}:"
    if primary.role != "primary" or primary.environment != standby.environment:
        raise fail(f"{key}failover.primaryStack names '{primary.stack}', a {primary.environment} "
                   f"{primary.role} stack; it must be the {standby.environment} primary")
    missing = sorted({s.name for s in standby.services} - {s.name for s in primary.services})
    if missing:
        raise fail(f"{key}services.enabled runs {missing}, which the primary '{primary.stack}' does not run: "
                   "their images and secrets are replicated from the primary, so enable them there first")
    images = {s.name: s.image for s in primary.services}
    differing = [s.name for s in standby.services if s.name in images and s.image != images[s.name]]
    if differing:
        name = differing[0]
        raise fail(f"{key}services.overrides.{name}.image = '{standby.service(name).image}' differs from the "
                   f"primary '{primary.stack}' ('{images[name]}'): a standby runs its primary's images (the "
                   f"replicated tags); bump both stack files together")
    if standby.replicate_data != primary.replicate_data:
        raise fail(f"{key}failover.replicateData is {standby.replicate_data} here and {primary.replicate_data} in "
                   f"the primary '{primary.stack}': a pair replicates its data in both stacks or in neither "
                   "(the standby joins the primary's global databases and tables); set the same value in both")
    standby_dns, primary_dns = standby.config.dns, primary.config.dns
    if standby_dns is not None and (primary_dns is None or standby_dns != primary_dns):
        shown = primary_dns.model_dump(by_alias=True) if primary_dns else None
        raise fail(f"{key}dns = {standby_dns.model_dump(by_alias=True)} must equal the primary's dns ({shown}): "
                   "the standby serves the primary's API name as its SECONDARY record")
    if standby_dns is None and primary_dns is not None:
        raise fail(f"{key}dns is not set, but the primary '{primary.stack}' has dns "
                   f"({primary_dns.model_dump(by_alias=True)}): set the same dns here, or the primary's "
                   "PRIMARY failover records have no SECONDARY to fail over to")
    primary_shard = _shard_of(primary)
    moved = {name: (primary_shard.get(name), shard) for name, shard in _shard_of(standby).items()
             if primary_shard.get(name) != shard}
    if moved:
        name, (in_primary, in_standby) = sorted(moved.items())[0]
        raise fail(f"{key}loadBalancers.maxRoutedServicesPerAlb = "
                   f"{standby.config.load_balancers.max_routed_services_per_alb} routes {name} through load "
                   f"balancer {in_standby + 1}, the primary '{primary.stack}' through "
                   f"{'none' if in_primary is None else f'load balancer {in_primary + 1}'}: a failover record pairs the same load balancer of both regions, so "
                   "primary and standby must split the routed services alike (same value, same services)")


def _shard_of(settings: StackSettings) -> dict[str, int]:
    return {spec.name: index for index, shard in enumerate(settings.alb_shards) for spec in shard}
