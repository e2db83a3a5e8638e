"""Service secrets: created in the primary region with a KMS-encrypted replica in the standby region."""

import pulumi
import pulumi_aws as aws
import pytest

from components.data.service_secrets import ServiceSecrets, ServiceSecretsArgs, replica_secret_arn
from devkit.mocks import ACCOUNT_ID, run_program

PRIMARY_KEY = f"arn:aws:kms:eu-central-1:{ACCOUNT_ID}:key/11111111-2222-3333-4444-555555555555"
REPLICA_KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT_ID}:key/66666666-7777-8888-9999-000000000000"


def _args(**overrides):
    values = dict(environment="prod", kms_key_id=PRIMARY_KEY, replica_kms_key_id=REPLICA_KEY,
                  secret_names_by_service={"auth": ("jwt-signing-key", "db-password"), "persona": ("api-token",)},
                  tags={"environment": "prod"})
    values.update(overrides)
    return ServiceSecretsArgs(**values)


def _run(args):
    def program():
        provider = aws.Provider("euc1", region="eu-central-1")
        secrets = ServiceSecrets("secrets", args, pulumi.ResourceOptions(provider=provider))
        return {"secretArns": secrets.secret_arns}
    return run_program(program, project="microservices-foundation", stack="prod", region="eu-central-1")


def test_each_secret_is_named_environment_service_secret_and_replicated_to_eu_west_1_with_the_replica_key():
    recorder, _ = _run(_args())

    secrets = recorder.of_type("aws:secretsmanager/secret:Secret")
    assert sorted(s.inputs["name"] for s in secrets) == [
        "prod/auth/db-password", "prod/auth/jwt-signing-key", "prod/persona/api-token"]
    for secret in secrets:
        assert secret.provider_region == "eu-central-1"
        assert secret.inputs["kmsKeyId"] == PRIMARY_KEY
        assert secret.inputs["replicas"] == [{"region": "eu-west-1", "kmsKeyId": REPLICA_KEY}]
        assert secret.inputs["recoveryWindowInDays"] == 30
        assert secret.parent == recorder.one("microservices:platform:ServiceSecrets").urn


def test_no_secret_value_is_created_by_pulumi():
    recorder, _ = _run(_args())

    assert recorder.of_type("aws:secretsmanager/secretVersion:SecretVersion") == []
    assert all("secretString" not in s.inputs for s in recorder.resources)


def test_output_maps_service_slash_secret_to_the_primary_arn():
    recorder, outputs = _run(_args())

    arn_by_name = {s.inputs["name"]: s.outputs["arn"] for s in recorder.of_type("aws:secretsmanager/secret:Secret")}
    assert outputs["secretArns"] == {
        "auth/jwt-signing-key": arn_by_name["prod/auth/jwt-signing-key"],
        "auth/db-password": arn_by_name["prod/auth/db-password"],
        "persona/api-token": arn_by_name["prod/persona/api-token"],
    }
    assert all(":eu-central-1:" in arn for arn in outputs["secretArns"].values())


def test_replica_key_from_another_region_is_refused():
    with pytest.raises(ValueError, match=r"replica KMS key .* is in eu-central-1, but the replica is in eu-west-1"):
        _args(replica_kms_key_id=PRIMARY_KEY)


def test_replica_key_given_as_an_alias_is_passed_on_for_aws_to_resolve_in_the_replica_region():
    recorder, _ = _run(_args(replica_kms_key_id="alias/prod-secrets"))

    replicas = {s.inputs["name"]: s.inputs["replicas"] for s in recorder.of_type("aws:secretsmanager/secret:Secret")}
    assert replicas["prod/auth/db-password"] == [{"region": "eu-west-1", "kmsKeyId": "alias/prod-secrets"}]


def test_replica_arn_keeps_name_and_random_suffix_and_changes_only_the_region():
    primary = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:prod/auth/jwt-signing-key-a1B2c3"

    assert replica_secret_arn(primary, "eu-west-1") == \
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/auth/jwt-signing-key-a1B2c3"


@pytest.mark.parametrize("arn, region", [
    ("arn:aws:ssm:eu-central-1:123456789012:parameter/prod/auth", "eu-west-1"),
    ("prod/auth/jwt-signing-key", "eu-west-1"),
    ("arn:aws:secretsmanager:eu-central-1:123456789012:secret:prod/auth/key-a1B2c3", "Ireland"),
])
def test_replica_arn_refuses_what_is_not_a_secret_arn_or_a_region(arn, region):
    with pytest.raises(ValueError):
        replica_secret_arn(arn, region)


@pytest.mark.parametrize("overrides, message", [
    (dict(recovery_window_in_days=0), "recovery_window_in_days"),
    (dict(recovery_window_in_days=31), "recovery_window_in_days"),
    (dict(secret_names_by_service={"auth": ("db/password",)}), "no '/'"),
    (dict(secret_names_by_service={"auth": ("key-a1b2c3",)}), "ARN suffix"),
    (dict(secret_names_by_service={"auth": ("key", "key")}), "twice"),
])
def test_args_secrets_manager_would_reject_or_misread_are_refused(overrides, message):
    with pytest.raises(ValueError, match=message):
        _args(**overrides)
