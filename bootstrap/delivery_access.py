"""What GitHub Actions needs in AWS before the platform's first `pulumi up`.

* the account's GitHub OIDC provider (token.actions.githubusercontent.com, audience sts.amazonaws.com);
* one deploy role per stack family, assumable only by this repository's workflows: `staging` from a
  push to main (subject `ref:refs/heads/main`), `prod` from jobs in the `production` environment
  (subject `environment:production`); and a preview role for pull requests (subject `pull_request`)
  that reads the state and runs the program's invokes, nothing else;
* the state bucket (versioned, SSE-KMS, TLS only, no public access, ACLs disabled) and the KMS key
  that encrypts it and the stacks' secrets (`pulumi login s3://...`, `--secrets-provider awskms://...`).

Why the deploy roles are broad and how they are bounded: docs/bootstrap.md. In short, the actions are
enumerated (no wildcards) but on `Resource: "*"` because the resources do not exist when the policy
is written; a region condition, tag conditions on every delete, a permissions-boundary condition on
every role they touch, and their own permissions boundary bound them. The policy pack reports that
breadth; bootstrap/policy-config.json acknowledges it with reasons.

roles/catalog.py lists the actions, roles/settings.py validates the config, roles/documents.py builds the
documents as pure functions (the tests read them without Pulumi); `build` here registers the resources.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws

# Pulumi runs this program with bootstrap/ as its working directory; the type checker reads it from the root.
if TYPE_CHECKING:
    from bootstrap.roles.catalog import (
        BOUNDED_ROLE_ACTIONS,
        DEPLOY_ACTIONS,
        FAMILIES,
        GITHUB_OIDC_URL,
        IMAGE_ENVIRONMENTS,
        IMAGE_REGION,
        MANAGED_BY_BOOTSTRAP,
        MANAGED_POLICY_MAX_CHARS,
        PREVIEW_OIDC_CONTEXT,
        STS_AUDIENCE,
        TAG_BOUNDED_DELETES,
        TAG_MUTATIONS,
        FamilySpec,
    )
    from bootstrap.roles.documents import (
        deploy_boundary,
        deploy_policy,
        deploy_policy_groups,
        image_push_policy,
        platform_boundary_arns,
        state_access_policy,
        state_bucket_policy,
        state_key_policy,
        trust_policy,
    )
    from bootstrap.roles.settings import BootstrapSettings, ImagePusher, github_subject
else:
    from roles.catalog import (
        BOUNDED_ROLE_ACTIONS,
        DEPLOY_ACTIONS,
        FAMILIES,
        GITHUB_OIDC_URL,
        IMAGE_ENVIRONMENTS,
        IMAGE_REGION,
        MANAGED_BY_BOOTSTRAP,
        MANAGED_POLICY_MAX_CHARS,
        PREVIEW_OIDC_CONTEXT,
        STS_AUDIENCE,
        TAG_BOUNDED_DELETES,
        TAG_MUTATIONS,
        FamilySpec,
    )
    from roles.documents import (
        deploy_boundary,
        deploy_policy,
        deploy_policy_groups,
        image_push_policy,
        platform_boundary_arns,
        state_access_policy,
        state_bucket_policy,
        state_key_policy,
        trust_policy,
    )
    from roles.settings import BootstrapSettings, ImagePusher, github_subject

# What __main__.py and the tests read from this module.
__all__ = ["BOUNDED_ROLE_ACTIONS", "DEPLOY_ACTIONS", "FAMILIES", "IMAGE_ENVIRONMENTS", "IMAGE_REGION",
           "MANAGED_POLICY_MAX_CHARS", "TAG_BOUNDED_DELETES", "TAG_MUTATIONS", "BootstrapOutputs", "BootstrapSettings",
           "FamilySpec", "ImagePusher", "build", "deploy_policy_groups", "platform_boundary_arns"]

# --- resources -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class BootstrapOutputs:
    """What the workflows and the platform's first `pulumi login` need."""

    oidc_provider_arn: pulumi.Output[str]
    deploy_role_arns: Mapping[str, pulumi.Output[str]]
    preview_role_arn: pulumi.Output[str]
    image_push_role_arns: Mapping[str, pulumi.Output[str]]
    state_bucket: pulumi.Output[str]
    state_key_arn: pulumi.Output[str]
    backend_url: pulumi.Output[str]
    secrets_provider: pulumi.Output[str]


def build(settings: BootstrapSettings) -> BootstrapOutputs:
    tags = {**settings.tags, "managed-by": MANAGED_BY_BOOTSTRAP}

    provider = aws.iam.OpenIdConnectProvider(
        "github", url=GITHUB_OIDC_URL, client_id_lists=[STS_AUDIENCE], tags=tags)

    key = aws.kms.Key(
        "state", description="Pulumi state bucket and stack secrets of microservices-foundation",
        enable_key_rotation=True, deletion_window_in_days=30,
        policy=json.dumps(state_key_policy(settings.account_id)), tags=tags)
    aws.kms.Alias("state", name="alias/microservices-foundation-pulumi", target_key_id=key.key_id)

    bucket = aws.s3.Bucket("state", bucket=settings.state_bucket_name, tags=tags)
    aws.s3.BucketOwnershipControls("state", bucket=bucket.id,
                                   rule={"object_ownership": "BucketOwnerEnforced"})
    aws.s3.BucketPublicAccessBlock("state", bucket=bucket.id, block_public_acls=True, block_public_policy=True,
                                   ignore_public_acls=True, restrict_public_buckets=True)
    aws.s3.BucketVersioning("state", bucket=bucket.id, versioning_configuration={"status": "Enabled"})
    aws.s3.BucketServerSideEncryptionConfiguration("state", bucket=bucket.id, rules=[{
        "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": key.arn},
        "bucket_key_enabled": True}])
    aws.s3.BucketLifecycleConfiguration("state", bucket=bucket.id, rules=[{
        # Old state versions are the undo history; three months of it is plenty.
        "id": "expire-old-state-versions", "status": "Enabled", "filter": {},
        "noncurrent_version_expiration": {"noncurrent_days": 90},
        "abort_incomplete_multipart_upload": {"days_after_initiation": 7}}])
    aws.s3.BucketPolicy("state", bucket=bucket.id, policy=json.dumps(state_bucket_policy(settings.state_bucket_arn)))

    deploy_role_arns: dict[str, pulumi.Output[str]] = {}
    for family in FAMILIES:
        boundary = aws.iam.Policy(
            f"github-deploy-{family.environment}-boundary", name=f"github-deploy-{family.environment}-boundary",
            description=f"Permissions boundary of the {family.environment} deploy role",
            policy=json.dumps(deploy_boundary(settings, family)), tags=tags)
        role = aws.iam.Role(
            f"github-deploy-{family.environment}", name=f"github-deploy-{family.environment}",
            description=f"pulumi up of {', '.join(family.stacks)} from GitHub Actions ({family.oidc_context})",
            assume_role_policy=provider.arn.apply(
                functools.partial(_trust_json, settings.oidc_subject(family.oidc_context))),
            permissions_boundary=boundary.arn, max_session_duration=3600, tags=tags)
        for group in deploy_policy_groups():
            policy = aws.iam.Policy(
                f"github-deploy-{family.environment}-{group}", name=f"github-deploy-{family.environment}-{group}",
                policy=json.dumps(deploy_policy(group, settings, family)), tags=tags)
            aws.iam.RolePolicyAttachment(f"github-deploy-{family.environment}-{group}", role=role.name,
                                         policy_arn=policy.arn)
        aws.iam.RolePolicy(f"github-deploy-{family.environment}-state", role=role.id,
                           policy=key.arn.apply(lambda arn: json.dumps(state_access_policy(settings, arn, write=True))))
        deploy_role_arns[family.environment] = role.arn

    preview_policy = key.arn.apply(lambda arn: json.dumps(state_access_policy(settings, arn, write=False)))
    preview_boundary = aws.iam.Policy("github-preview-boundary", name="github-preview-boundary",
                                      description="Permissions boundary of the pull-request preview role",
                                      policy=preview_policy, tags=tags)
    preview = aws.iam.Role(
        "github-preview", name="github-preview",
        description="pulumi preview of every stack from pull requests: reads the state, changes nothing",
        assume_role_policy=provider.arn.apply(
            lambda arn: json.dumps(trust_policy(arn, settings.oidc_subject(PREVIEW_OIDC_CONTEXT)))),
        permissions_boundary=preview_boundary.arn, max_session_duration=3600, tags=tags)
    aws.iam.RolePolicy("github-preview-state", role=preview.id, policy=preview_policy)

    image_push_role_arns: dict[str, pulumi.Output[str]] = {}
    for pusher in settings.image_pushers:
        push_policy = json.dumps(image_push_policy(settings.account_id, pusher.service))
        name = f"github-image-{pusher.service}"
        boundary = aws.iam.Policy(f"{name}-boundary", name=f"{name}-boundary",
                                  description=f"Permissions boundary of the {pusher.service} image push role",
                                  policy=push_policy, tags=tags)
        role = aws.iam.Role(
            name, name=name,
            description=f"push {pusher.service} images from {pusher.repository} (main branch)",
            assume_role_policy=provider.arn.apply(functools.partial(_trust_json, github_subject(
                pusher.repository, "ref:refs/heads/main", pusher.owner_id, pusher.repository_id))),
            permissions_boundary=boundary.arn, max_session_duration=3600, tags=tags)
        aws.iam.RolePolicy(f"{name}-push", role=role.id, policy=push_policy)
        image_push_role_arns[pusher.service] = role.arn

    return BootstrapOutputs(
        oidc_provider_arn=provider.arn, deploy_role_arns=deploy_role_arns, preview_role_arn=preview.arn,
        image_push_role_arns=image_push_role_arns,
        state_bucket=bucket.bucket, state_key_arn=key.arn,
        backend_url=bucket.bucket.apply(lambda name: f"s3://{name}?region={settings.backend_region}"),
        secrets_provider=key.key_id.apply(
            lambda key_id: f"awskms://{key_id}?region={settings.backend_region}"))


def _trust_json(subject: str, provider_arn: str) -> str:
    return json.dumps(trust_policy(provider_arn, subject))
