"""ECR in a region: one repository per service (primary) or the template replication creates them from
(standby), and the pull-through cache the tracing collector image comes from."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import partial
from typing import Any

import pulumi
import pulumi_aws.ecr as ecr
import pulumi_aws.iam as iam

from components.core.contract import RepositoryRefs
from components.mesh_service.container_definitions import ADOT_COLLECTOR_UPSTREAM_REGISTRY, regional_collector_image
from components.regional_platform import platform_iam
from components.regional_platform.args import RegionalPlatformArgs

# CreatePullThroughCacheRule ecrRepositoryPrefix: 2-30 characters matching this pattern
# (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreatePullThroughCacheRule.html).
PULL_THROUGH_CACHE_PREFIX = re.compile(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")


def pull_through_cache_prefix(environment: str) -> str:
    """The ECR repository prefix of an environment's ECR Public pull-through cache rule.

    A rule belongs to a registry (account and region) and a prefix, and the staging and prod stacks of a
    region share one registry, so each environment owns the rule of its own prefix. ECR treats a prefix `p`
    as `p/`, so `staging-ecr-public` never matches another environment's repositories (`staging/...`).
    """
    prefix = f"{environment}-ecr-public"
    if not (2 <= len(prefix) <= 30 and PULL_THROUGH_CACHE_PREFIX.fullmatch(prefix)):
        raise ValueError(f"pull-through cache prefix {prefix!r} must be 2-30 characters matching "
                         f"{PULL_THROUGH_CACHE_PREFIX.pattern} (CreatePullThroughCacheRule)")
    return prefix


def lifecycle_policy(untagged_days: int, tagged_kept: int) -> dict[str, Any]:
    """Expire untagged images after N days; keep the last M tagged ones.
    https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html"""
    return {"rules": [
        {"rulePriority": 1, "description": f"Expire untagged images older than {untagged_days} days",
         "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                       "countNumber": untagged_days},
         "action": {"type": "expire"}},
        {"rulePriority": 2, "description": f"Keep the {tagged_kept} most recent tagged images",
         "selection": {"tagStatus": "tagged", "tagPatternList": ["*"], "countType": "imageCountMoreThan",
                       "countNumber": tagged_kept},
         "action": {"type": "expire"}},
    ]}


def create_repositories(name: str, args: RegionalPlatformArgs, *, kms_key_arn: pulumi.Input[str],
                        permissions_boundary_arn: pulumi.Input[str],
                        child: Callable[..., pulumi.ResourceOptions]) -> dict[str, RepositoryRefs]:
    policy = json.dumps(lifecycle_policy(args.untagged_image_days, args.tagged_images_kept))
    if args.role != "primary":
        # The standby region's repositories are the replication destinations: ECR creates them, under the
        # same names, on the first replicated push; creating them here too would fail with
        # RepositoryAlreadyExistsException. https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication.html
        # What this stack owns instead is the template ECR creates them from, which only shapes
        # repositories created after it exists: it must be deployed before the first push.
        _replica_repository_template(name, args, policy, kms_key_arn, permissions_boundary_arn, child)
        account = pulumi.Output.from_input(args.account_id)
        return {service: RepositoryRefs(
            name=repository_name,
            url=account.apply(partial(_replica_url, args.region, repository_name)),
            arn=account.apply(partial(_replica_arn, args.region, repository_name)))
            for service, repository_name in args.repository_names.items()}
    refs = {}
    for service, repository_name in args.repository_names.items():
        repository = ecr.Repository(
            f"{name}-{service}", name=repository_name, image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            encryption_configurations=[{"encryption_type": "KMS", "kms_key": kms_key_arn}],
            force_delete=False, opts=child())
        ecr.LifecyclePolicy(f"{name}-{service}", repository=repository.name, policy=policy, opts=child())
        refs[service] = RepositoryRefs(name=repository_name, url=repository.repository_url, arn=repository.arn)
    return refs


def _replica_repository_template(name: str, args: RegionalPlatformArgs, lifecycle: str, kms_key_arn: pulumi.Input[str],
                                 permissions_boundary_arn: pulumi.Input[str],
                                 child: Callable[..., pulumi.ResourceOptions]) -> ecr.RepositoryCreationTemplate:
    """The settings ECR gives the repositories it creates here by replication.

        Without a template they get none of the primary's (mutable tags, AES-256 rather than the platform
        key, no lifecycle policy, no tags). A template with appliedFor REPLICATION in the destination
        registry, i.e. this region, applies its settings to every repository replication creates after it
        exists, never to ones created before
        (https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-creation-templates-create.html).
        Prefix `<environment>` matches `<environment>/...`: ECR always assumes a trailing "/"
        (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepositoryCreationTemplate.html),
        so `prod` never matches `prod-x/...` and the staging and prod standbys, which share this account's
        registry, each own the template of their own prefix.

        KMS encryption and repository tags need a custom role ECR assumes (Pulumi: custom_role_arn "Required
        if using repository tags or KMS encryption"; AWS: repository-creation-templates-create-iam.html).

        Scan on push is not part of a template. Basic scan-on-push for replicated repositories would need
        the registry scanning configuration, which is one per account and region (each
        PutRegistryScanningConfiguration replaces the last): the staging and prod standbys share it, and
        writing it from a stack would also overwrite an account-wide Amazon Inspector (enhanced) setting.
        So this component doesn't set it: the replicas hold the same image digests that were scanned on push
        in the primary region, where findings are read. If eu-west-1 findings are wanted, one owner (like
        the replication owner) must write that configuration with filters for every environment.
        """
    role_policy = pulumi.Output.all(args.account_id, kms_key_arn).apply(
        lambda values: json.dumps(platform_iam.replica_repository_role_policy(
            values[0], args.region, args.environment, values[1])))
    role = iam.Role(
        f"{name}-ecr-template", assume_role_policy=json.dumps(platform_iam.replica_repository_trust_policy()),
        permissions_boundary=permissions_boundary_arn,
        description=f"ECR repository creation template: replicated {args.environment}/ repositories", opts=child())
    role_permissions = iam.RolePolicy(f"{name}-ecr-template", role=role.id, policy=role_policy, opts=child())
    return ecr.RepositoryCreationTemplate(
        f"{name}-replicas", prefix=args.environment, applied_fors=["REPLICATION"],
        description=f"Replicated {args.environment}/ repositories: settings of the primary's repositories",
        image_tag_mutability="IMMUTABLE",
        encryption_configurations=[{"encryption_type": "KMS", "kms_key": kms_key_arn}],
        lifecycle_policy=lifecycle, resource_tags=dict(args.repository_tags), custom_role_arn=role.arn,
        # ECR must be able to use the role as soon as the template exists.
        opts=child(depends_on=[role_permissions]))


def create_collector_cache(name: str, args: RegionalPlatformArgs, prefix: str,
                           child: Callable[..., pulumi.ResourceOptions]) -> pulumi.Output[str] | None:
    """An ECR pull-through cache rule for ECR Public, so tasks pull the ADOT collector from this region's
        private registry, which the ecr.api/ecr.dkr endpoints and the S3 gateway reach with or without NAT.

        ECR Public needs no credentials for a rule (ECR user guide, pull-through-cache.html: "Amazon ECR
        Public, Kubernetes container image registry, and Quay (doesn't require authentication)"). The first
        pull of an image creates the repository `<prefix>/<upstream repository path>` and caches the image;
        the execution role may do that (iam_documents.PULL_THROUGH_CACHE_ACTIONS, admitted by the boundary).

        First pull without NAT: AWS documents that the *first* pull of an image through a pull-through
        cache rule over an interface VPC endpoint needs a route to the internet through a NAT gateway;
        "Subsequent image pulls don't require this" (ECR user guide, the considerations of
        pull-through-cache.html and of vpc-endpoints.html). So in a stack without NAT the collector tag must be pulled once from outside the
        VPC (an operator's or CI's `docker pull` of `collector_image_uri`) before its tasks can start; ECS
        keeps retrying the tasks until then. Stacks with NAT do that first pull from the task itself.
        The same holds after every change of ADOT_COLLECTOR_TAG.

        Repository creation template (appliedFor PULL_THROUGH_CACHE, same prefix), so the cached
        repository is created with IMMUTABLE tags: without it ECR creates a mutable repository and re-syncs
        the tag from upstream about once a day, so a re-pushed upstream `v0.50.0` would change what new tasks
        run; with immutable tags ECR "may not be able to update the cached images" (same page), which for a
        pinned release tag is the point. Left out on purpose:
          * KMS with the platform key and resource tags: both need a custom role ECR assumes (Pulumi:
            custom_role_arn "Required if using repository tags or KMS encryption"), i.e. another role and
            boundary statements in every stack, for a public image whose content is no secret; ECR's default
            AES-256 encryption at rest applies. Its storage (one image, both architectures) is a few cents a
            month that the cost tags won't attribute.
          * A lifecycle policy: the collector is a multi-architecture image, and a pull through the index tag
            caches the per-architecture images untagged (same page: "the manifest list and each image
            referenced in the manifest list are pulled"); an "expire untagged" rule could delete what the
            tag still references.
        The pack's ECR policies (immutable tags, scan on push) judge Pulumi-managed repositories only; this one
        is ECR-managed, which is why immutability comes from the template.
        """
    if not args.tracing:
        return None
    template = ecr.RepositoryCreationTemplate(
        f"{name}-ecr-public-cache", prefix=prefix, applied_fors=["PULL_THROUGH_CACHE"],
        description=f"{args.environment}: ECR Public images cached through the pull-through cache rule",
        image_tag_mutability="IMMUTABLE", opts=child())
    # The template first: it shapes only repositories created after it exists.
    rule = ecr.PullThroughCacheRule(
        f"{name}-ecr-public-cache", ecr_repository_prefix=prefix,
        upstream_registry_url=ADOT_COLLECTOR_UPSTREAM_REGISTRY, opts=child(depends_on=[template]))
    # Built from the rule's own prefix, so everything that uses the URI (task definitions) follows the rule.
    return pulumi.Output.all(args.account_id, rule.ecr_repository_prefix).apply(
        lambda values: regional_collector_image(values[0], args.region, values[1]))


def _replica_url(region: str, repository_name: str, account: str) -> str:
    return f"{account}.dkr.ecr.{region}.amazonaws.com/{repository_name}"


def _replica_arn(region: str, repository_name: str, account: str) -> str:
    return f"arn:aws:ecr:{region}:{account}:repository/{repository_name}"
