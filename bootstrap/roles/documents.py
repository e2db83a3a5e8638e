"""The policy documents of the bootstrap's roles, its state key and bucket: pure functions of the settings
(the tests read them without Pulumi). Why the deploy roles are broad and how they are bounded: docs/bootstrap.md."""

from __future__ import annotations

import re

from .catalog import (
    BOUNDED_ROLE_ACTIONS,
    DEPLOY_ACTIONS,
    GITHUB_OIDC_HOST,
    IMAGE_ENVIRONMENTS,
    IMAGE_PUSH_ACTIONS,
    IMAGE_REGION,
    KEY_USE_ACTIONS,
    KEYS_THROUGH_SERVICES,
    MANAGED_BY_PLATFORM,
    PASS_ROLE_SERVICES,
    PLATFORM_REGIONS,
    SERVICE_LINKED_ROLE_SERVICES,
    STS_AUDIENCE,
    TAG_BOUNDED_DELETES,
    TAG_MUTATIONS,
    FamilySpec,
)
from .settings import BootstrapSettings


def trust_policy(provider_arn: str, subject: str) -> dict:
    """Only tokens GitHub issued for STS and for exactly this repository and context."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "GitHubActionsOfThisRepository", "Effect": "Allow",
        "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{GITHUB_OIDC_HOST}:aud": STS_AUDIENCE,
                                       f"{GITHUB_OIDC_HOST}:sub": subject}},
    }]}


def _actions(service: str) -> list[str]:
    return [f"{service}:{action}" for action in DEPLOY_ACTIONS[service]]


def deploy_policy_groups() -> dict[str, tuple[str, ...]]:
    """Services grouped so that each group's document stays under the managed-policy size limit."""
    return {
        "network": ("ec2", "elasticloadbalancing"),
        "compute": ("ecs", "application-autoscaling", "servicediscovery", "ecr", "lambda"),
        "identity": ("iam", "kms", "ssm"),
        "operations": ("logs", "cloudwatch", "route53", "budgets", "s3", "acm", "acm-pca"),
        "observability": ("sns", "cloudtrail", "access-analyzer", "xray", "ce", "arc-region-switch"),
        "data": ("dynamodb", "sqs", "events", "pipes", "rds", "secretsmanager"),
    }


# Actions granted only on this family's own resources (scoped_statements), never on "*".
SCOPED_ACTIONS: frozenset[str] = frozenset({
    *KEY_USE_ACTIONS, "secretsmanager:GetSecretValue", "secretsmanager:RotateSecret",
    "dynamodb:Scan", "dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:GetItem",
    "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
    "s3:ListBucketVersions", "s3:DeleteObject", "s3:DeleteObjectVersion"})


def scoped_statements(group: str, settings: BootstrapSettings, family: FamilySpec) -> list[dict]:
    """What the platform's services do with the caller's permissions, on this family's resources only
    (docs/permission-closure.md lists the resource and the AWS documentation behind each)."""
    account, env = settings.account_id, family.environment
    region = {"aws:RequestedRegion": settings.allowed_regions}

    def arns(service: str, resource: str) -> list[str]:
        return [f"arn:aws:{service}:{r}:{account}:{resource}" for r in PLATFORM_REGIONS]

    def scoped(sid: str, actions: list[str], resources: list[str], **conditions: str | list[str]) -> dict:
        assert set(actions) <= SCOPED_ACTIONS, actions
        return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources,
                "Condition": {"StringEquals": {**region, **conditions}}}
    by_group: dict[str, list[dict]] = {
        "identity": [
            # ECR, RDS, DynamoDB and Secrets Manager create grants and data keys on a customer managed key
            # as the caller; only through those services and only on this environment's keys.
            scoped("UseThisEnvironmentsKeysThroughThePlatformServices", list(KEY_USE_ACTIONS), arns("kms", "key/*"),
                   **{"kms:ViaService": [f"{s}.{r}.amazonaws.com" for s in KEYS_THROUGH_SERVICES
                                         for r in PLATFORM_REGIONS],
                      "aws:ResourceTag/environment": env}),
        ],
        "data": [
            # The provider reads a write-only secret version back after writing it.
            scoped("ReadBackTheWriteOnlyMasterCredentials", ["secretsmanager:GetSecretValue"],
                   arns("secretsmanager", f"secret:{env}/*/db-master-*")),
            scoped("RotateRdsManagedMasterSecrets", ["secretsmanager:RotateSecret"],
                   arns("secretsmanager", "secret:rds!cluster-*")),
            # A new global table replica needs the item actions on the table in the replica region.
            scoped("AddReplicasOfThisEnvironmentsTables", [
                "dynamodb:Scan", "dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:GetItem",
                "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"], arns("dynamodb", f"table/{env}-*")),
        ],
        # forceDestroy empties a versioned bucket (every version) before deleting it.
        "operations": [
            scoped("ListVersionsOfThisEnvironmentsBuckets", ["s3:ListBucketVersions"], [f"arn:aws:s3:::{env}-*"]),
            scoped("EmptyThisEnvironmentsBucketsOnDelete", ["s3:DeleteObject", "s3:DeleteObjectVersion"],
                   [f"arn:aws:s3:::{env}-*/*"]),
        ],
    }
    return by_group.get(group, [])


def deploy_policy(group: str, settings: BootstrapSettings, family: FamilySpec) -> dict:
    """One of a deploy role's identity policies: the group's actions in the platform's regions."""
    region = {"StringEquals": {"aws:RequestedRegion": settings.allowed_regions}}
    statements: list[dict] = []
    for service in deploy_policy_groups()[group]:
        actions = [a for a in _actions(service) if a not in SCOPED_ACTIONS]
        if service == "iam":
            bounded = [a for a in actions if a in BOUNDED_ROLE_ACTIONS]
            statements.append({
                "Sid": "RolesCarryingThePlatformBoundary", "Effect": "Allow", "Action": bounded, "Resource": "*",
                "Condition": {**region, "ArnLike": {"iam:PermissionsBoundary": platform_boundary_arns(
                    settings.account_id, family)}}})
            statements.append({
                "Sid": "PassRolesToTheServicesThatRunThePlatform", "Effect": "Allow", "Action": ["iam:PassRole"],
                "Resource": "*",
                "Condition": {"StringEquals": {**region["StringEquals"],
                                               "iam:PassedToService": list(PASS_ROLE_SERVICES)}}})
            statements.append({
                "Sid": "ServiceLinkedRolesOfThePlatformServices", "Effect": "Allow",
                "Action": ["iam:CreateServiceLinkedRole"], "Resource": "*",
                "Condition": {"StringEquals": {**region["StringEquals"],
                                               "iam:AWSServiceName": list(SERVICE_LINKED_ROLE_SERVICES)}}})
            special = {*BOUNDED_ROLE_ACTIONS, "iam:PassRole", "iam:CreateServiceLinkedRole"}
            actions = [a for a in actions if a not in special]
        statements.append({"Sid": _sid(service), "Effect": "Allow", "Action": actions, "Resource": "*",
                           "Condition": region})
    statements += scoped_statements(group, settings, family)
    deletes = [a for a in TAG_BOUNDED_DELETES if a.split(":")[0] in deploy_policy_groups()[group]]
    if deletes:
        # Deny unless the resource is tagged as this family's and the platform program's: with a
        # negated operator an absent tag matches too, so untagged resources cannot be deleted.
        statements.append({"Sid": "DeleteOnlyThisEnvironment", "Effect": "Deny", "Action": deletes, "Resource": "*",
                           "Condition": {"StringNotEquals": {"aws:ResourceTag/environment": family.environment}}})
        statements.append({"Sid": "DeleteOnlyWhatThePlatformManages", "Effect": "Deny", "Action": deletes,
                           "Resource": "*",
                           "Condition": {"StringNotEquals": {"aws:ResourceTag/managed-by": MANAGED_BY_PLATFORM}}})
    retags = [a for a in TAG_MUTATIONS if a.split(":")[0] in deploy_policy_groups()[group]]
    if retags:
        # Only where the tag is present (a resource being created has none yet): "Null": "false".
        for sid, key, value in (("NoRetaggingOtherEnvironments", "environment", family.environment),
                                ("NoRetaggingForeignResources", "managed-by", MANAGED_BY_PLATFORM)):
            statements.append({"Sid": sid, "Effect": "Deny", "Action": retags, "Resource": "*", "Condition": {
                "Null": {f"aws:ResourceTag/{key}": "false"},
                "StringNotEquals": {f"aws:ResourceTag/{key}": value}}})
    return {"Version": "2012-10-17", "Statement": statements}


def platform_boundary_arns(account_id: str, family: FamilySpec) -> list[str]:
    """The permissions boundaries the platform program creates for this family's stacks
    (RegionalPlatform `<environment>-<region>-boundary`, auto-named with a suffix)."""
    return [f"arn:aws:iam::{account_id}:policy/{family.environment}-{region}-boundary-*"
            for region in PLATFORM_REGIONS]


def state_access_policy(settings: BootstrapSettings, key_arn: str, *, write: bool) -> dict:
    """Read (and for deploy roles write) the state objects; use the state key (secrets provider)."""
    object_actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"] if write else ["s3:GetObject"]
    key_actions = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"] if write \
        else ["kms:Decrypt", "kms:DescribeKey"]
    statements = [
        {"Sid": "ListState", "Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
         "Resource": settings.state_bucket_arn},
        {"Sid": "ReadWriteState" if write else "ReadState", "Effect": "Allow", "Action": object_actions,
         "Resource": f"{settings.state_bucket_arn}/*"},
        {"Sid": "UseStateKey", "Effect": "Allow", "Action": key_actions, "Resource": key_arn},
    ]
    if not write:
        # The program's invokes run in a preview too: a replicating primary (prod, the staging pair) draws its
        # global database's master password.
        statements.append({"Sid": "RunTheProgramsInvokes", "Effect": "Allow",
                           "Action": ["secretsmanager:GetRandomPassword"], "Resource": "*",
                           "Condition": {"StringEquals": {"aws:RequestedRegion": list(PLATFORM_REGIONS)}}})
        # A preview takes the self-managed backend's stack lock like an update does.
        statements.append({"Sid": "TakeStackLocks", "Effect": "Allow", "Action": ["s3:PutObject", "s3:DeleteObject"],
                           "Resource": f"{settings.state_bucket_arn}/.pulumi/locks/*"})
    return {"Version": "2012-10-17", "Statement": statements}


def deploy_boundary(settings: BootstrapSettings, family: FamilySpec) -> dict:
    """The most a deploy role can ever hold: the platform's services in its regions, never the bootstrap.

    Service-level action wildcards are deliberate here: the boundary caps services, regions and
    resources; the role's identity policies enumerate the actions (a boundary with every action spelled
    out would not fit IAM's 6,144-character limit). The pack reports this; policy-config.json says why.
    """
    services = sorted(DEPLOY_ACTIONS)
    protected = bootstrap_arns(settings)
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "PlatformServicesInPlatformRegions", "Effect": "Allow",
         "Action": [f"{s}:*" for s in services if s != "iam"] + _actions("iam"),
         "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestedRegion": settings.allowed_regions}}},
        {"Sid": "StateObjects", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
         "Resource": f"{settings.state_bucket_arn}/*"},
        {"Sid": "StateKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
         "Resource": protected["kms"]},
        {"Sid": "NeverTouchTheBootstrapIdentities", "Effect": "Deny", "Action": ["iam:*"],
         "Resource": protected["iam"]},
        {"Sid": "NeverDisableTheStateKey", "Effect": "Deny", "Action": STATE_KEY_ADMIN_ACTIONS,
         "Resource": protected["kms"]},
        {"Sid": "NeverWeakenTheStateBucket", "Effect": "Deny", "Action": STATE_BUCKET_ADMIN_ACTIONS,
         "Resource": protected["s3"]},
        {"Sid": "NoRoleWithoutThePlatformBoundary", "Effect": "Deny",
         "Action": ["iam:CreateRole", "iam:PutRolePermissionsBoundary"], "Resource": "*",
         "Condition": {"StringNotLike": {"iam:PermissionsBoundary": platform_boundary_arns(
             settings.account_id, family)}}},
        {"Sid": "NeverDropABoundary", "Effect": "Deny", "Action": ["iam:DeleteRolePermissionsBoundary"],
         "Resource": "*"},
    ]}


def bootstrap_arns(settings: BootstrapSettings) -> dict[str, list[str]]:
    """What the deploy roles must never change, per service: the bootstrap's own roles, policies and
    OIDC provider (all named `github-*`), the state key(s) of the backend region, the state bucket."""
    account = settings.account_id
    return {
        "iam": [f"arn:aws:iam::{account}:role/github-*", f"arn:aws:iam::{account}:policy/github-*",
                f"arn:aws:iam::{account}:oidc-provider/{GITHUB_OIDC_HOST}"],
        "kms": [f"arn:aws:kms:{settings.backend_region}:{account}:key/*",
                f"arn:aws:kms:{settings.backend_region}:{account}:alias/*"],
        "s3": [settings.state_bucket_arn],
    }


STATE_KEY_ADMIN_ACTIONS = ["kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:DisableKeyRotation", "kms:PutKeyPolicy",
                           "kms:CreateGrant", "kms:UpdateAlias", "kms:DeleteAlias", "kms:CreateAlias",
                           "kms:EnableKeyRotation", "kms:UpdateKeyDescription", "kms:TagResource",
                           "kms:UntagResource"]
STATE_BUCKET_ADMIN_ACTIONS = [
    "s3:DeleteBucket", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration", "s3:PutBucketPublicAccessBlock", "s3:PutLifecycleConfiguration",
    "s3:PutBucketOwnershipControls", "s3:PutBucketTagging"]


def image_push_policy(account_id: str, service: str) -> dict:
    """Push one service's images to its repositories of every environment, nothing else."""
    return {"Version": "2012-10-17", "Statement": [
        # GetAuthorizationToken has no resource-level permission (it logs in to the registry).
        {"Sid": "LogInToTheRegistry", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"},
        {"Sid": "PushThisServicesImages", "Effect": "Allow", "Action": list(IMAGE_PUSH_ACTIONS),
         "Resource": [f"arn:aws:ecr:{IMAGE_REGION}:{account_id}:repository/{environment}/{service}"
                      for environment in IMAGE_ENVIRONMENTS]},
    ]}


def state_key_policy(account_id: str) -> dict:
    """The account administers the key through IAM (explicit actions, no `kms:*`); roles get its use
    through their own policies. In a key policy `Resource: "*"` means this key."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "AccountAdministersKeyThroughIam", "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
        "Action": [
            "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:DeleteAlias", "kms:DescribeKey", "kms:DisableKey",
            "kms:EnableKey", "kms:EnableKeyRotation", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus",
            "kms:ListResourceTags", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:TagResource",
            "kms:UntagResource", "kms:UpdateAlias", "kms:UpdateKeyDescription",
            "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:ReEncryptTo",
        ],
        "Resource": "*",
    }]}


def state_bucket_policy(bucket_arn: str) -> dict:
    """TLS only: every request over plain HTTP is denied, whoever makes it."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyPlainHttp", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }]}


def _sid(service: str) -> str:
    return "Deploy" + "".join(part.capitalize() for part in re.split(r"[-]", service))
