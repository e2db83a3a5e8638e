"""The policy list of the pack, in the order pulumi-policy runs them.

The two acknowledgement reporters must stay last: they report what the policies before them put
in the outbox during the same request (see exceptions.py).
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Policy

from .alarm_actions import ALARM_ACTIONS_PROD, ALARM_TOPIC_ENCRYPTED
from .alb_listeners import ALB_HTTP_REDIRECTS_TO_HTTPS
from .app_mesh import NO_APP_MESH
from .budget_guard import STACK_BUDGET, STACK_BUDGET_APPROVED_OVERRUN
from .budget_tags import BUDGET_TAGS
from .data_keys import DATA_KEYS_CUSTOMER_MANAGED
from .data_stores import DYNAMODB_TABLE_KMS, DYNAMODB_TABLE_PITR, SQS_QUEUE_DEAD_LETTER, SQS_QUEUE_ENCRYPTION
from .databases import RDS_CLUSTER_ENCRYPTED, RDS_DELETION_PROTECTION_PROD, RDS_NOT_PUBLIC, RDS_SNAPSHOT_NOT_PUBLIC
from .default_network import NO_DEFAULT_NETWORK_USE, NO_DEFAULT_VPC
from .ecr_repositories import ECR_IMMUTABLE_TAGS, ECR_SCAN_ON_PUSH
from .ecs_containers import CONTAINER_NON_ROOT_USER, CONTAINER_READ_ONLY_ROOT
from .ecs_deployments import ECS_CANARY_PERCENT, ECS_DEPLOYMENT_ROLLBACK
from .ecs_network import ECS_NO_PUBLIC_IP
from .ecs_service_connect import SERVICE_CONNECT_TLS_PROD
from .ecs_task_size import FARGATE_TASK_SIZE
from .environment_secrets import CONTAINER_ENV_NO_SECRETS
from .exceptions import AcknowledgementOutbox
from .framework import PolicySpec, acknowledgement_reporters, build_policy
from .iam_documents import NO_WILDCARD_IAM
from .iam_managed_policies import NO_ADMIN_MANAGED_POLICIES
from .iam_permissions_boundary import IAM_ROLE_PERMISSIONS_BOUNDARY
from .kms_keys import KMS_KEY_ROTATION
from .log_groups import CONTAINER_LOG_GROUP_MANAGED, FUNCTION_LOG_GROUP_MANAGED, LOG_GROUP_KMS, LOG_GROUP_RETENTION
from .security_groups import NO_WORLD_OPEN_INGRESS
from .unreadable_resources import NO_UNREADABLE_RESOURCES
from .vpc_endpoints import REQUIRED_VPC_ENDPOINTS

PACK_NAME = "microservices-foundation-guard"
PACK_DESCRIPTION = "Guardrails for the microservices-foundation ECS Fargate platform (IAM, network, cost tags, ECS)."
PACK_ENFORCEMENT_LEVEL = EnforcementLevel.MANDATORY

SPECS: tuple[PolicySpec, ...] = (
    NO_WILDCARD_IAM,
    NO_ADMIN_MANAGED_POLICIES,
    IAM_ROLE_PERMISSIONS_BOUNDARY,
    BUDGET_TAGS,
    ECS_NO_PUBLIC_IP,
    FARGATE_TASK_SIZE,
    CONTAINER_READ_ONLY_ROOT,
    CONTAINER_NON_ROOT_USER,
    CONTAINER_ENV_NO_SECRETS,
    ECS_DEPLOYMENT_ROLLBACK,
    ECS_CANARY_PERCENT,
    SERVICE_CONNECT_TLS_PROD,
    ECR_IMMUTABLE_TAGS,
    ECR_SCAN_ON_PUSH,
    LOG_GROUP_RETENTION,
    LOG_GROUP_KMS,
    CONTAINER_LOG_GROUP_MANAGED,
    FUNCTION_LOG_GROUP_MANAGED,
    KMS_KEY_ROTATION,
    NO_APP_MESH,
    REQUIRED_VPC_ENDPOINTS,
    ALB_HTTP_REDIRECTS_TO_HTTPS,
    NO_WORLD_OPEN_INGRESS,
    NO_DEFAULT_VPC,
    NO_DEFAULT_NETWORK_USE,
    NO_UNREADABLE_RESOURCES,
    STACK_BUDGET,
    STACK_BUDGET_APPROVED_OVERRUN,
    ALARM_ACTIONS_PROD,
    ALARM_TOPIC_ENCRYPTED,
    SQS_QUEUE_DEAD_LETTER,
    SQS_QUEUE_ENCRYPTION,
    DYNAMODB_TABLE_PITR,
    DYNAMODB_TABLE_KMS,
    RDS_CLUSTER_ENCRYPTED,
    RDS_NOT_PUBLIC,
    RDS_DELETION_PROTECTION_PROD,
    RDS_SNAPSHOT_NOT_PUBLIC,
    DATA_KEYS_CUSTOMER_MANAGED,
)


def build_policies() -> list[Policy]:
    """Every policy of the pack, acknowledgement reporters last."""
    outbox = AcknowledgementOutbox()
    policies: list[Policy] = [build_policy(spec, outbox) for spec in SPECS]
    policies += acknowledgement_reporters(outbox)
    return policies
