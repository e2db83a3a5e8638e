"""SAR "dependent actions" the table does not require, each with the reason it does not apply here.

The Service Authorization Reference lists what an action may also need depending on its parameters;
tests/test_permission_closure.py fails when a table action has a dependent action that is neither in
its row nor dismissed here.
"""

from __future__ import annotations

from collections.abc import Mapping

_RDS_INSTANCE = ("an Aurora cluster instance inherits storage encryption and the master secret from its "
                 "cluster (the cluster's row carries them)")
_RDS_MODIFY = ("the key and the master secret's key are replacement properties of the cluster, so a change "
               "takes the create path; the program sets no monitoring or S3 role")

DISMISSED: Mapping[tuple[str, str], str] = {
    **{(a, "iam:PassRole"): "the program sets no enhanced-monitoring, S3 import or directory role"
       for a in ("rds:CreateDBCluster", "rds:CreateDBInstance", "rds:ModifyDBCluster", "rds:ModifyDBInstance")},
    ("rds:CreateDBCluster", "rds:CreateDBInstance"): "only Multi-AZ DB clusters (not Aurora) create instances",
    ("rds:DeleteDBCluster", "rds:DeleteDBInstance"): "only Multi-AZ DB clusters (not Aurora) delete instances",
    **{(a, "rds:CreateTenantDatabase"): "RDS for Oracle multitenant only"
       for a in ("rds:CreateDBInstance", "rds:ModifyDBInstance")},
    ("rds:DeleteDBInstance", "rds:DeleteTenantDatabase"): "RDS for Oracle multitenant only",
    ("rds:DeleteDBInstance", "rds:CreateDBSnapshot"): "Aurora instances take no final snapshot; the cluster does",
    ("rds:DeleteDBInstance", "rds:AddTagsToResource"): "tags a final instance snapshot, which Aurora does not take",
    **{("rds:CreateDBInstance", d): _RDS_INSTANCE for d in ("kms:Decrypt", "kms:GenerateDataKey",
                                                          "secretsmanager:CreateSecret", "secretsmanager:TagResource")},
    **{("rds:ModifyDBInstance", d): _RDS_INSTANCE for d in (
        "kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey", "secretsmanager:CreateSecret",
        "secretsmanager:RotateSecret", "secretsmanager:TagResource")},
    **{("rds:ModifyDBCluster", d): _RDS_MODIFY for d in (
        "kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey", "secretsmanager:CreateSecret",
        "secretsmanager:TagResource")},
    ("rds:ModifyDBCluster", "rds:ModifyDBInstance"): "only Multi-AZ DB clusters (not Aurora) modify instances",
    ("lambda:CreateFunction", "lambda:PassCapacityProvider"): "Lambda managed instances only; the function is on-demand",
    ("budgets:ViewBudget", "billing:GetBillingViewData"): "budgets scoped to a billing view only; none is",
    ("budgets:ModifyBudget", "iam:CreateServiceLinkedRole"): "budget actions only; the budgets have notifications",
    ("cloudtrail:CreateTrail", "organizations:ListAWSServiceAccessForOrganization"): "organization trails only",
    **{("cloudtrail:UpdateTrail", d): "organization trails only; the trail's own role exists after create"
       for d in ("iam:CreateServiceLinkedRole", "iam:GetRole", "organizations:ListAWSServiceAccessForOrganization")},
    **{(a, d): "ECR calls these with the template's custom role when it creates a repository from the template "
               "(replication), not with the deploying role"
       for a in ("ecr:CreateRepositoryCreationTemplate", "ecr:UpdateRepositoryCreationTemplate")
       for d in ("ecr:CreateRepository", "ecr:PutLifecyclePolicy", "ecr:SetRepositoryPolicy",
                 "iam:CreateServiceLinkedRole")},
    ("ecr:PutReplicationConfiguration", "iam:CreateServiceLinkedRole"):
        "the replication role exists after the create (the create row carries it)",
    ("kms:CreateKey", "iam:CreateServiceLinkedRole"): "multi-Region keys and custom key stores only; none is",
    **{(a, "iam:PassRole"): "SNS delivery-status logging roles only; the topics set none"
       for a in ("sns:CreateTopic", "sns:SetTopicAttributes")},
}
