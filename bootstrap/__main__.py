"""Bootstrap stack: GitHub OIDC, deploy and preview roles, state bucket and key (docs/bootstrap.md)."""

from typing import TYPE_CHECKING

import pulumi

# Pulumi runs this program with bootstrap/ as its working directory; the type checker reads it from the root.
if TYPE_CHECKING:
    from bootstrap.delivery_access import BootstrapSettings, ImagePusher, build
else:
    from delivery_access import BootstrapSettings, ImagePusher, build

config = pulumi.Config()
aws_config = pulumi.Config("aws")
github = config.require_object("github")
accounts = aws_config.require_object("allowedAccountIds")
tags = config.get_object("tags") or {}
pushers = config.get_object("imagePushers") or []
try:
    if not isinstance(pushers, list) or not all(isinstance(p, dict) for p in pushers):
        raise ValueError("imagePushers must be a list of {repository, service} entries")
    settings = BootstrapSettings(
        account_id=str(accounts[0]) if isinstance(accounts, list) and len(accounts) == 1 else repr(accounts),
        repository=str(github.get("repository", "")),
        owner_id=github.get("ownerId"), repository_id=github.get("repositoryId"),
        state_bucket_name=config.require("stateBucketName"), backend_region=aws_config.require("region"),
        image_pushers=tuple(ImagePusher(repository=str(p.get("repository", "")), service=str(p.get("service", "")),
                                        owner_id=p.get("ownerId"), repository_id=p.get("repositoryId"))
                            for p in pushers),
        tags={"environment": "prod", "cost-center": tags.get("costCenter", "cc-platform"),
              "owner": tags.get("owner", "platform-team"), "project": "microservices-foundation"})
except ValueError as error:
    raise pulumi.RunError(f"stack '{pulumi.get_stack()}' (bootstrap/Pulumi.{pulumi.get_stack()}.yaml): {error}") from None

outputs = build(settings)
pulumi.export("oidcProviderArn", outputs.oidc_provider_arn)
pulumi.export("deployRoleArns", outputs.deploy_role_arns)
pulumi.export("previewRoleArn", outputs.preview_role_arn)
pulumi.export("imagePushRoleArns", outputs.image_push_role_arns)
pulumi.export("stateBucket", outputs.state_bucket)
pulumi.export("stateKeyArn", outputs.state_key_arn)
pulumi.export("backendUrl", outputs.backend_url)
pulumi.export("secretsProvider", outputs.secrets_provider)
