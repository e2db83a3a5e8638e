import json

import pytest
from policy_sentry.querying.actions import get_action_data, get_actions_that_support_wildcard_arns_only

from components.mesh_service.service_iam import (
    PULL_THROUGH_CACHE_ACTIONS,
    WILDCARD_ONLY_ACTIONS,
    ExecutionRoleScope,
    PolicyScopeError,
    execution_role_policy,
    repository_arn_of_image,
    secret_arn_for_policy,
    task_role_policy,
    trust_policy,
)

ACCOUNT = "123456789012"
REGION = "eu-central-1"
REPOSITORY = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/prod/auth"
KMS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/auth/db-AbCdEf"
PARAMETER = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/prod/auth/LOG_LEVEL"
COLLECTOR_IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/prod-ecr-public/aws-observability/aws-otel-collector:v0.50.0"
COLLECTOR_REPOSITORY = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/prod-ecr-public/aws-observability/aws-otel-collector"


def auth_scope(**overrides) -> ExecutionRoleScope:
    values = dict(partition="aws", region=REGION, account_id=ACCOUNT, repository_arn=REPOSITORY,
                  log_group_name="/ecs/prod/auth", kms_key_arn=KMS_KEY, collector_repository_arn=COLLECTOR_REPOSITORY,
                  secret_arns=[SECRET + ":password::"], parameter_arns=[PARAMETER])
    values.update(overrides)
    return ExecutionRoleScope(**values)


def statements(document):
    return document["Statement"]


def as_list(value):
    return value if isinstance(value, list) else [value]


def resource_prefix(action: str) -> list[str]:
    """The fixed start of each ARN format the Service Authorization Reference gives for `action`."""
    service, name = action.split(":")
    prefixes = []
    for rows in get_action_data(service, name).values():
        for row in rows:
            arn_format = row["resource_arn_format"]
            if arn_format == "*":
                continue
            arn_format = arn_format.replace("${Partition}", "aws").replace("${Region}", REGION).replace("${Account}", ACCOUNT)
            prefixes.append(arn_format.split("${")[0])
    return prefixes


OWN_RESOURCES = {REPOSITORY, COLLECTOR_REPOSITORY, KMS_KEY, SECRET, PARAMETER, f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/prod/auth:*"}


def test_no_action_wildcards_in_either_role():
    for document in (execution_role_policy(auth_scope()), task_role_policy(tracing_enabled=True)):
        for statement in statements(document):
            for action in as_list(statement["Action"]):
                assert "*" not in action and "?" not in action, action


def test_execution_role_names_only_this_services_resources_except_wildcard_only_actions():
    for statement in statements(execution_role_policy(auth_scope())):
        resources = as_list(statement["Resource"])
        if resources == ["*"]:
            assert set(statement["Action"]) <= WILDCARD_ONLY_ACTIONS
        else:
            assert set(resources) <= OWN_RESOURCES, resources


def test_every_resource_has_the_arn_format_the_action_is_authorised_on():
    for statement in statements(execution_role_policy(auth_scope())):
        for action in statement["Action"]:
            for resource in as_list(statement["Resource"]):
                if resource == "*":
                    continue
                prefixes = resource_prefix(action)
                assert any(resource.startswith(p) for p in prefixes), (action, resource, prefixes)


def test_star_resources_are_only_for_actions_the_authorization_database_says_have_no_resource_type():
    wildcard_only = set()
    for service in {a.split(":")[0] for a in WILDCARD_ONLY_ACTIONS}:
        wildcard_only |= {a.lower() for a in get_actions_that_support_wildcard_arns_only(service)}
    assert {a.lower() for a in WILDCARD_ONLY_ACTIONS} <= wildcard_only
    for document in (execution_role_policy(auth_scope()), task_role_policy(tracing_enabled=True)):
        for statement in statements(document):
            if as_list(statement["Resource"]) == ["*"]:
                assert {a.lower() for a in statement["Action"]} <= wildcard_only


def test_execution_role_grants_pull_logs_secrets_parameters_and_key_decrypt():
    by_sid = {s["Sid"]: s for s in statements(execution_role_policy(auth_scope()))}
    assert by_sid["PullOwnImage"]["Resource"] == [REPOSITORY]
    assert by_sid["WriteOwnLogs"]["Resource"] == [f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/prod/auth:*"]
    # The JSON-key suffix of the valueFrom reference is not part of the secret's ARN.
    assert by_sid["ReadOwnSecrets"]["Resource"] == [SECRET]
    assert by_sid["ReadOwnParameters"]["Action"] == ["ssm:GetParameters"]
    assert by_sid["ReadOwnParameters"]["Resource"] == [PARAMETER]
    decrypt = by_sid["DecryptOwnSecretsWithPlatformKey"]
    assert decrypt["Resource"] == [KMS_KEY]
    assert decrypt["Condition"]["StringEquals"]["kms:ViaService"] == [
        "secretsmanager.eu-central-1.amazonaws.com", "ssm.eu-central-1.amazonaws.com"]


def test_without_secrets_or_parameters_there_is_no_secret_read_and_no_decrypt():
    sids = {s["Sid"] for s in statements(execution_role_policy(auth_scope(secret_arns=[], parameter_arns=[])))}
    assert sids == {"EcrAuthorizationToken", "PullOwnImage", "PullTracingCollectorThroughCache", "WriteOwnLogs"}


def test_the_collector_is_pulled_and_imported_through_the_cache_with_the_documented_actions_only():
    by_sid = {s["Sid"]: s for s in statements(execution_role_policy(auth_scope()))}
    collector = by_sid["PullTracingCollectorThroughCache"]
    assert collector["Resource"] == [repository_arn_of_image(COLLECTOR_IMAGE)] == [COLLECTOR_REPOSITORY]
    # ECR user guide, pull-through-cache-iam.html: the pulling principal's extra permissions.
    assert set(PULL_THROUGH_CACHE_ACTIONS) == {"ecr:BatchImportUpstreamImage", "ecr:CreateRepository"}
    assert set(collector["Action"]) == set(by_sid["PullOwnImage"]["Action"]) | set(PULL_THROUGH_CACHE_ACTIONS)
    # Creating and importing is never granted on the service's own repository.
    assert not set(PULL_THROUGH_CACHE_ACTIONS) & set(by_sid["PullOwnImage"]["Action"])
    untraced = {s["Sid"] for s in statements(execution_role_policy(auth_scope(collector_repository_arn=None)))}
    assert "PullTracingCollectorThroughCache" not in untraced


@pytest.mark.parametrize("image", [
    "public.ecr.aws/aws-observability/aws-otel-collector:v0.50.0",
    f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/prod-ecr-public/aws-observability/aws-otel-collector",
])
def test_only_private_ecr_images_with_a_tag_or_digest_have_a_repository_arn(image):
    with pytest.raises(PolicyScopeError):
        repository_arn_of_image(image)


@pytest.mark.parametrize("field_name, foreign", [
    ("repository_arn", "arn:aws:ecr:eu-central-1:999999999999:repository/prod/auth"),
    ("kms_key_arn", "arn:aws:kms:eu-west-1:123456789012:key/other"),
    ("collector_repository_arn", COLLECTOR_REPOSITORY.replace(REGION, "eu-west-1")),
    ("secret_arns", ["arn:aws:secretsmanager:eu-central-1:999999999999:secret:other-AbCdEf"]),
    ("parameter_arns", ["arn:aws:ssm:eu-west-1:123456789012:parameter/prod/auth/X"]),
    ("parameter_arns", ["arn:aws:ssm:eu-central-1:123456789012:document/prod-auth"]),
])
def test_resources_of_another_account_region_or_type_are_refused(field_name, foreign):
    with pytest.raises(PolicyScopeError):
        execution_role_policy(auth_scope(**{field_name: foreign}))


def test_task_role_has_only_the_adot_xray_actions_and_nothing_without_tracing():
    (statement,) = statements(task_role_policy(tracing_enabled=True))
    assert set(statement["Action"]) == {
        "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
        "xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries"}
    assert task_role_policy(tracing_enabled=False) is None


def test_task_role_trust_carries_the_documented_confused_deputy_conditions():
    (statement,) = trust_policy(ACCOUNT, REGION, confused_deputy_conditions=True)["Statement"]
    assert statement["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:*"},
    }


def test_execution_role_trust_is_the_plain_documented_one():
    (statement,) = trust_policy(ACCOUNT, REGION, confused_deputy_conditions=False)["Statement"]
    assert "Condition" not in statement and statement["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}


def test_secret_reference_suffixes_are_cut_to_the_secret_arn():
    assert secret_arn_for_policy(SECRET) == SECRET
    assert secret_arn_for_policy(SECRET + ":password:AWSCURRENT:") == SECRET
    with pytest.raises(PolicyScopeError):
        secret_arn_for_policy(PARAMETER)


def test_documents_are_plain_json():
    for document in (execution_role_policy(auth_scope()), task_role_policy(True), trust_policy(ACCOUNT, REGION, confused_deputy_conditions=True)):
        assert json.loads(json.dumps(document)) == document
