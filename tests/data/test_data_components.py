"""ServiceTable and ServiceDatabase under the mock runtime: what each registers, and the CreateTable and
CreateDBCluster shapes botocore accepts."""

from __future__ import annotations

import botocore.session
import pulumi
import pulumi_aws as aws
import pytest
from botocore.validate import ParamValidator

from components.data.database import (
    AUTO_PAUSE_MINIMUM,
    GlobalPrimary,
    GlobalSecondary,
    ServiceDatabase,
    ServiceDatabaseArgs,
    supports_auto_pause,
)
from components.data.spec import DynamoDbData, PostgresData
from components.data.table import (
    ServiceTable,
    ServiceTableArgs,
    TableReplica,
    TableReplicaKey,
    TableReplicaKeyArgs,
    create_table_request,
    stream_view_type,
)
from devkit.mocks import ACCOUNT_ID, AwsLikeMocks, run_program

KEY = f"arn:aws:kms:eu-central-1:{ACCOUNT_ID}:key/11111111-2222-3333-4444-555555555555"
REPLICA_KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT_ID}:key/66666666-7777-8888-9999-000000000000"
SPEC = DynamoDbData.model_validate({
    "kind": "dynamodb", "partitionKey": {"name": "pk"}, "sortKey": {"name": "sk"}, "ttlAttribute": "expiresAt",
    "outbox": True, "indexes": [{"name": "by-owner", "partitionKey": {"name": "ownerId"},
                                 "sortKey": {"name": "createdAt", "type": "N"}, "projection": "KEYS_ONLY"}]})
DYNAMODB = botocore.session.get_session().get_service_model("dynamodb")
RDS = botocore.session.get_session().get_service_model("rds")


def _run(build, stack="prod"):
    def program():
        provider = aws.Provider("euc1", region="eu-central-1")
        return build(pulumi.ResourceOptions(provider=provider))
    return run_program(program, project="microservices-foundation", stack=stack, region="eu-central-1")


@pytest.mark.parametrize("replicated", [False, True])
def test_create_table_request_is_valid_for_the_dynamodb_api(replicated):
    request = create_table_request("prod-upload", SPEC, KEY, stream_view_type(SPEC, replicated))
    report = ParamValidator().validate(request, DYNAMODB.operation_model("CreateTable").input_shape)
    assert not report.has_errors(), report.generate_report()
    assert request["StreamSpecification"]["StreamViewType"] == ("NEW_AND_OLD_IMAGES" if replicated else "NEW_IMAGE")


def test_prod_table_is_on_demand_encrypted_recoverable_protected_and_replicated_with_the_replica_key():
    recorder, _ = _run(lambda opts: ServiceTable("prod-upload", ServiceTableArgs(
        environment="prod", service="upload", spec=SPEC, kms_key_arn=KEY, deletion_protection=True,
        replica=TableReplica(region="eu-west-1", kms_key_arn=REPLICA_KEY)), opts))
    table = recorder.one("aws:dynamodb/table:Table").inputs
    assert table["name"] == "prod-upload" and table["billingMode"] == "PAY_PER_REQUEST"
    assert table["pointInTimeRecovery"] == {"enabled": True}
    assert table["serverSideEncryption"] == {"enabled": True, "kmsKeyArn": KEY}
    assert table["deletionProtectionEnabled"] is True
    assert table["ttl"] == {"attributeName": "expiresAt", "enabled": True}
    assert table["streamEnabled"] is True and table["streamViewType"] == "NEW_AND_OLD_IMAGES"
    assert table["replicas"] == [{"regionName": "eu-west-1", "kmsKeyArn": REPLICA_KEY, "pointInTimeRecovery": True,
                                  "deletionProtectionEnabled": True, "propagateTags": True}]
    assert {a["name"]: a["type"] for a in table["attributes"]} == {"pk": "S", "sk": "S", "ownerId": "S",
                                                                    "createdAt": "N"}
    assert table["globalSecondaryIndexes"][0]["projectionType"] == "KEYS_ONLY"


def test_staging_table_without_outbox_has_no_stream_and_no_replica():
    spec = SPEC.model_copy(update={"outbox": False})
    recorder, _ = _run(lambda opts: ServiceTable("staging-upload", ServiceTableArgs(
        environment="staging", service="upload", spec=spec, kms_key_arn=KEY), opts), stack="staging")
    table = recorder.one("aws:dynamodb/table:Table").inputs
    assert table["streamEnabled"] is False and "replicas" not in table and table["deletionProtectionEnabled"] is False


def test_replica_key_lives_in_the_standby_region_without_a_second_provider():
    recorder, _ = _run(lambda opts: TableReplicaKey("prod-replicas", TableReplicaKeyArgs(
        environment="prod", region="eu-west-1", account_id=ACCOUNT_ID), opts))
    key = recorder.one("aws:kms/key:Key")
    assert key.inputs["region"] == "eu-west-1" and key.inputs["enableKeyRotation"] is True
    assert len(recorder.of_type("pulumi:providers:aws")) == 1


def _database(opts, **overrides):
    values = dict(environment="staging", service="persona", spec=PostgresData(kind="postgres"),
                  vpc_id="vpc-1", subnet_ids=["subnet-a", "subnet-b"], task_security_group_id="sg-tasks",
                  kms_key_arn=KEY, min_capacity=0)
    values.update(overrides)
    return ServiceDatabase(f"{values['environment']}-persona", ServiceDatabaseArgs(**values), opts)


def test_staging_database_scales_to_zero_with_an_rds_managed_secret_and_iam_auth():
    recorder, _ = _run(_database, stack="staging")
    cluster = recorder.one("aws:rds/cluster:Cluster").inputs
    assert cluster["serverlessv2ScalingConfiguration"] == {"minCapacity": 0, "maxCapacity": 4,
                                                           "secondsUntilAutoPause": 900}
    assert cluster["manageMasterUserPassword"] is True and cluster["masterUserSecretKmsKeyId"] == KEY
    assert cluster["iamDatabaseAuthenticationEnabled"] is True
    assert cluster["storageEncrypted"] is True and cluster["kmsKeyId"] == KEY
    assert cluster["deletionProtection"] is False and cluster["skipFinalSnapshot"] is True
    assert "masterPassword" not in cluster and "masterPasswordWo" not in cluster
    instance = recorder.one("aws:rds/clusterInstance:ClusterInstance").inputs
    assert instance["instanceClass"] == "db.serverless" and instance["publiclyAccessible"] is False
    assert instance["performanceInsightsEnabled"] is False
    assert recorder.of_type("aws:rds/globalCluster:GlobalCluster") == []


def test_database_admits_5432_only_from_the_service_tasks_and_opens_the_matching_egress():
    recorder, _ = _run(_database, stack="staging")
    assert len(recorder.of_type("aws:ec2/securityGroup:SecurityGroup")) == 1
    ingress = recorder.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").inputs
    egress = recorder.one("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule").inputs
    assert ingress["referencedSecurityGroupId"] == "sg-tasks" and ingress["fromPort"] == ingress["toPort"] == 5432
    assert ingress["securityGroupId"].startswith("sg-") and ingress["securityGroupId"] != "sg-tasks"
    assert egress["referencedSecurityGroupId"] == ingress["securityGroupId"]
    assert egress["securityGroupId"] == "sg-tasks" and egress["fromPort"] == egress["toPort"] == 5432
    assert "cidrIpv4" not in ingress and "cidrIpv4" not in egress


def test_prod_primary_creates_the_global_database_with_a_write_only_master_password(monkeypatch):
    original = AwsLikeMocks.call

    def call(self, args):
        if args.token == "aws:secretsmanager/getRandomPassword:getRandomPassword":
            return {"randomPassword": "x" * 40, "id": "eu-central-1"}, []
        return original(self, args)

    monkeypatch.setattr(AwsLikeMocks, "call", call)
    recorder, _ = _run(lambda opts: _database(opts, environment="prod", min_capacity=0.5, deletion_protection=True,
                                              performance_insights=True, global_role=GlobalPrimary()))
    global_cluster = recorder.one("aws:rds/globalCluster:GlobalCluster").inputs
    cluster = recorder.one("aws:rds/cluster:Cluster").inputs
    assert global_cluster["storageEncrypted"] is True and global_cluster["engine"] == "aurora-postgresql"
    assert cluster["globalClusterIdentifier"] == "prod-persona"
    assert "manageMasterUserPassword" not in cluster and cluster["masterPasswordWoVersion"] == 1
    group = recorder.one("aws:ec2/securityGroup:SecurityGroup").outputs["id"]
    assert cluster["deletionProtection"] is True and cluster["finalSnapshotIdentifier"] == f"prod-persona-final-{group}"
    assert cluster["serverlessv2ScalingConfiguration"]["minCapacity"] == 0.5
    secret = recorder.one("aws:secretsmanager/secret:Secret").inputs
    assert secret["name"] == "prod/persona/db-master" and secret["kmsKeyId"] == KEY
    version = recorder.one("aws:secretsmanager/secretVersion:SecretVersion").inputs
    assert "secretString" not in version and version["secretStringWoVersion"] == 1
    instance = recorder.one("aws:rds/clusterInstance:ClusterInstance").inputs
    assert instance["performanceInsightsEnabled"] is True and instance["performanceInsightsKmsKeyId"] == KEY


def test_prod_standby_joins_the_global_database_without_master_credentials():
    recorder, _ = _run(lambda opts: _database(opts, environment="prod", min_capacity=0.5, deletion_protection=True,
                                              global_role=GlobalSecondary("prod-persona")))
    cluster = recorder.one("aws:rds/cluster:Cluster").inputs
    assert cluster["globalClusterIdentifier"] == "prod-persona"
    assert not {"masterUsername", "masterPasswordWo", "manageMasterUserPassword"} & set(cluster)
    assert recorder.of_type("aws:rds/globalCluster:GlobalCluster") == []


@pytest.mark.parametrize("overrides, message", [
    (dict(engine_version="16.2"), "needs Aurora PostgreSQL 16.3"),
    (dict(global_role=GlobalPrimary()), "never pauses"),
    (dict(min_capacity=0.25), "multiple of 0.5"),
    (dict(seconds_until_auto_pause=60), "300-86400"),
    (dict(backup_retention_days=0), "1-35"),
])
def test_database_arguments_aws_would_reject_or_ignore_are_refused(overrides, message):
    values = dict(environment="staging", service="persona", spec=PostgresData(kind="postgres"), vpc_id="v",
                  subnet_ids=[], task_security_group_id="sg", kms_key_arn=KEY, min_capacity=0)
    with pytest.raises(ValueError, match=message):
        ServiceDatabaseArgs(**{**values, **overrides})


@pytest.mark.parametrize("version, expected", [("16.3", True), ("16.2", False), ("15.7", True), ("15.6", False),
                                               ("14.12", True), ("14.11", False), ("13.15", True), ("13.9", False),
                                               ("17.4", True)])
def test_auto_pause_versions_follow_the_aurora_user_guide(version, expected):
    assert supports_auto_pause(version) is expected
    assert set(AUTO_PAUSE_MINIMUM) == {13, 14, 15, 16}


def test_scaling_configuration_is_valid_for_create_db_cluster():
    args = ServiceDatabaseArgs(environment="staging", service="persona", spec=PostgresData(kind="postgres"),
                               vpc_id="v", subnet_ids=[], task_security_group_id="sg", kms_key_arn=KEY, min_capacity=0)
    config = args.scaling_configuration()
    request = {"DBClusterIdentifier": "staging-persona", "Engine": "aurora-postgresql",
               "ServerlessV2ScalingConfiguration": {"MinCapacity": config["min_capacity"],
                                                    "MaxCapacity": config["max_capacity"],
                                                    "SecondsUntilAutoPause": config["seconds_until_auto_pause"]},
               "ManageMasterUserPassword": True, "MasterUserSecretKmsKeyId": KEY, "MasterUsername": "platform_admin",
               "EnableIAMDatabaseAuthentication": True, "StorageEncrypted": True, "KmsKeyId": KEY}
    report = ParamValidator().validate(request, RDS.operation_model("CreateDBCluster").input_shape)
    assert not report.has_errors(), report.generate_report()
