"""ECR registry replication from the primary region to the standby region, in the same account.

Replication is a registry setting, one per account and region: `PutReplicationConfiguration` overwrites
whatever was there. So exactly one stack per account owns the `aws.ecr.ReplicationConfiguration`, and its
repository-name prefixes must cover every environment's repositories (names are `<environment>/<service>`),
including those of stacks that don't own it. `replication_problems` checks that across all stacks; the
settings loader calls it with every `Pulumi.<stack>.yaml`.

What replication does and doesn't do (https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication.html):
only images pushed after the configuration exists are copied (no backfill); destination repositories are
created with the same name; deletes and lifecycle policies are not replicated.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws.ecr as ecr

# ECR quotas for a replication configuration (registry-settings-configure.html, service-quotas.html).
MAX_RULES = 10
MAX_UNIQUE_DESTINATIONS = 25
MAX_FILTERS_PER_RULE = 100
# RepositoryFilter.filter (API_RepositoryFilter): 2-256 characters matching this pattern.
_FILTER_PATTERN = re.compile(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]*)*/)*[a-z0-9]*(?:[._-][a-z0-9]*)*$")
_FILTER_LENGTH = (2, 256)


def repository_prefix_problems(prefixes: Sequence[str]) -> list[str]:
    """What ECR would reject in a list of PREFIX_MATCH filters for one rule (empty when valid)."""
    problems = []
    if not prefixes:
        # No filter would replicate every repository in the registry; we replicate only declared ones.
        problems.append("no repository prefixes declared")
    if len(prefixes) > MAX_FILTERS_PER_RULE:
        problems.append(f"{len(prefixes)} prefixes exceed ECR's {MAX_FILTERS_PER_RULE} filters per rule")
    duplicates = sorted({p for p in prefixes if list(prefixes).count(p) > 1})
    if duplicates:
        problems.append(f"duplicate prefixes {duplicates}")
    for prefix in prefixes:
        if not (_FILTER_LENGTH[0] <= len(prefix) <= _FILTER_LENGTH[1]) or not _FILTER_PATTERN.fullmatch(prefix):
            problems.append(f"prefix {prefix!r} is not a valid ECR repository filter "
                            f"({_FILTER_LENGTH[0]}-{_FILTER_LENGTH[1]} chars, lowercase repository-name syntax)")
    return problems


@dataclass(frozen=True)
class RegistryReplicationArgs:
    """account_id: the registry (account) both source and destination live in.
    destination_region: the standby region the images are copied to.
    repository_prefixes: PREFIX_MATCH filters, e.g. ("staging/", "prod/").
    """

    account_id: pulumi.Input[str]
    destination_region: str
    repository_prefixes: tuple[str, ...]

    def __post_init__(self) -> None:
        problems = repository_prefix_problems(self.repository_prefixes)
        if not self.destination_region:
            problems.append("destination_region is empty")
        if problems:
            raise ValueError("RegistryReplicationArgs: " + "; ".join(problems))


class RegistryReplication(pulumi.ComponentResource):
    """The account's single ECR replication configuration in the provider's region.

    Outputs: `registry_id`, `destination_region`, `repository_prefixes`.
    """

    registry_id: pulumi.Output[str]
    """The account's private registry the replication configuration belongs to."""
    destination_region: pulumi.Output[str]
    """Where images are replicated to (the standby region)."""
    repository_prefixes: pulumi.Output[list[str]]
    """Repository prefixes that replicate (one per environment)."""

    def __init__(self, name: str, args: RegistryReplicationArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("microservices:platform:RegistryReplication", name, None, opts)
        configuration = ecr.ReplicationConfiguration(
            f"{name}-replication",
            replication_configuration={"rules": [{
                # One rule, one destination: well inside the 10-rule / 25-destination quotas.
                "destinations": [{"region": args.destination_region, "registry_id": args.account_id}],
                "repository_filters": [{"filter": prefix, "filter_type": "PREFIX_MATCH"}
                                       for prefix in args.repository_prefixes],
            }]},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.registry_id = configuration.registry_id
        self.destination_region = pulumi.Output.from_input(args.destination_region)
        self.repository_prefixes = pulumi.Output.from_input(list(args.repository_prefixes))
        self.register_outputs({
            "registryId": self.registry_id,
            "destinationRegion": self.destination_region,
            "repositoryPrefixes": self.repository_prefixes,
        })


@dataclass(frozen=True)
class ReplicationStackFacts:
    """What the cross-stack check needs from one stack's settings."""

    stack: str
    account_id: str
    environment: str
    region: str
    role: str  # "primary" or "standby"
    is_replication_owner: bool
    repository_prefixes: tuple[str, ...]
    repository_names: tuple[str, ...]


def replication_problems(stacks: Iterable[ReplicationStackFacts]) -> list[str]:
    """Problems with replication ownership and coverage, per account; empty when all is well.

    - no stack in an account owns the configuration (nothing gets replicated);
    - two or more stacks own it (each `pulumi up` would overwrite the other's);
    - the owner isn't a primary stack (images are pushed in the primary region, so that's the source);
    - the owner's prefixes are invalid for ECR;
    - a repository of any stack in the account isn't matched by one of the owner's prefixes.
    """
    by_account: dict[str, list[ReplicationStackFacts]] = defaultdict(list)
    for facts in stacks:
        by_account[facts.account_id].append(facts)

    problems: list[str] = []
    for account_id, account_stacks in sorted(by_account.items()):
        stack_names = sorted(s.stack for s in account_stacks)
        owners = sorted((s for s in account_stacks if s.is_replication_owner), key=lambda s: s.stack)
        if not owners:
            problems.append(f"account {account_id}: no stack owns the ECR replication configuration "
                            f"(stacks {stack_names}); mark exactly one primary stack as the owner")
            continue
        if len(owners) > 1:
            problems.append(f"account {account_id}: stacks {[o.stack for o in owners]} all own the ECR replication "
                            "configuration; it is one per account and region and each would overwrite the other")
            continue
        owner = owners[0]
        if owner.role != "primary":
            problems.append(f"account {account_id}: replication owner {owner.stack} has role {owner.role!r}; "
                            "it must be a primary stack, whose region images are pushed to")
        problems += [f"account {account_id}: owner {owner.stack}: {p}"
                     for p in repository_prefix_problems(owner.repository_prefixes)]
        for facts in sorted(account_stacks, key=lambda s: s.stack):
            uncovered = [name for name in facts.repository_names
                         if not any(name.startswith(prefix) for prefix in owner.repository_prefixes)]
            if uncovered:
                problems.append(f"account {account_id}: repositories {uncovered} of stack {facts.stack} are not "
                                f"covered by the replication prefixes {list(owner.repository_prefixes)} of "
                                f"{owner.stack}")
    return problems
