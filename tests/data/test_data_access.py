"""The data and events IAM documents: real actions only, the service's own resources only, and a boundary
that admits every statement a service or pipe role carries (a boundary is an intersection)."""

from __future__ import annotations

import fnmatch

import pytest
from policy_sentry.querying.actions import get_action_data

from components.data.access import (
    BoundaryScope,
    PipeScope,
    ServiceDataScope,
    boundary_statements,
    database_user_arn,
    pipe_role_policy,
    task_role_statements,
)
from components.mesh_service.service_iam import PolicyScopeError

ACCOUNT, REGION = "123456789012", "eu-central-1"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/prod-upload"
STREAM = f"{TABLE}/stream/2026-12-01T00:00:00.000"
BUS = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/prod-events"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:prod-billing-from-upload"
DLQ = f"arn:aws:sqs:{REGION}:{ACCOUNT}:prod-upload-outbox-dlq"
DB_USER = database_user_arn("aws", REGION, ACCOUNT, "cluster-ABCDEFGHIJKL", "persona")


def full_scope() -> ServiceDataScope:
    return ServiceDataScope(partition="aws", region=REGION, account_id=ACCOUNT, table_arn=TABLE,
                            index_names=("by-owner",), table_key_arn=KEY, queue_arns=(QUEUE,), queue_key_arn=KEY,
                            bus_arn=BUS, event_source="microservices.upload", database_user_arn=DB_USER)


def statements_of_everything() -> list[dict]:
    pipe = pipe_role_policy(PipeScope(STREAM, KEY, BUS, "microservices.upload", DLQ, KEY))["Statement"]
    return task_role_statements(full_scope()) + pipe


def test_every_action_exists_and_none_is_a_wildcard():
    boundary = boundary_statements(BoundaryScope("aws", REGION, ACCOUNT, "prod", key_arns=(KEY,)))
    for statement in statements_of_everything() + boundary:
        for action in statement["Action"]:
            assert "*" not in action
            service, name = action.split(":")
            assert get_action_data(service, name), f"{action} is not in the Service Authorization Reference"


def test_task_role_names_only_its_table_indexes_queues_bus_and_database_user():
    resources = {s["Sid"]: s["Resource"] for s in task_role_statements(full_scope())}
    assert resources["OwnTable"] == TABLE
    assert resources["OwnTableIndexes"] == [f"{TABLE}/index/by-owner"]
    assert resources["OwnQueues"] == [QUEUE]
    assert resources["ConnectAsOwnDatabaseUser"].endswith(":dbuser:cluster-ABCDEFGHIJKL/persona")
    publish = next(s for s in task_role_statements(full_scope()) if s["Sid"] == "PublishAsItselfOnOwnBus")
    assert publish["Resource"] == BUS and publish["Condition"] == {
        "StringEquals": {"events:source": "microservices.upload"}}


def test_a_service_without_data_or_events_gets_no_statement():
    assert task_role_statements(ServiceDataScope(partition="aws", region=REGION, account_id=ACCOUNT)) == []


@pytest.mark.parametrize("overrides", [
    {"table_arn": TABLE.replace(ACCOUNT, "999999999999")},
    {"queue_arns": (QUEUE.replace(REGION, "eu-west-1"),)},
    {"bus_arn": BUS, "event_source": None},
    {"table_key_arn": None},
])
def test_foreign_or_incomplete_scopes_are_refused(overrides):
    values = dict(partition="aws", region=REGION, account_id=ACCOUNT, table_arn=TABLE, table_key_arn=KEY)
    with pytest.raises(PolicyScopeError):
        ServiceDataScope(**{**values, **overrides})


def test_pipe_role_reads_only_its_stream_and_publishes_only_as_the_service():
    policy = pipe_role_policy(PipeScope(STREAM, KEY, BUS, "microservices.upload", DLQ, KEY))
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["ReadOwnTableStream"]["Resource"] == STREAM
    assert by_sid["PublishAsTheServiceOnOwnBus"]["Condition"]["StringEquals"]["events:source"] == "microservices.upload"
    with pytest.raises(PolicyScopeError):
        pipe_role_policy(PipeScope(TABLE, KEY, BUS, "microservices.upload", DLQ, KEY))


def _admitted(action: str, resource: str, boundary: list[dict]) -> bool:
    return any(action in s["Action"] and any(fnmatch.fnmatchcase(resource, pattern)
                                             for pattern in ([s["Resource"]] if isinstance(s["Resource"], str)
                                                             else s["Resource"]))
               for s in boundary)


def test_boundary_admits_every_data_and_event_statement_of_the_environment():
    boundary = boundary_statements(BoundaryScope("aws", REGION, ACCOUNT, "prod", key_arns=(KEY,)))
    for statement in statements_of_everything():
        resources = [statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"]
        for action in statement["Action"]:
            for resource in resources:
                assert _admitted(action, resource, boundary), f"boundary denies {action} on {resource}"


def test_boundary_denies_other_environments_and_other_sources():
    boundary = boundary_statements(BoundaryScope("aws", REGION, ACCOUNT, "prod", key_arns=(KEY,)))
    assert not _admitted("dynamodb:GetItem", TABLE.replace("prod-", "staging-"), boundary)
    assert not _admitted("sqs:ReceiveMessage", QUEUE.replace("prod-", "staging-"), boundary)
    publish = next(s for s in boundary if s["Sid"] == "DataPublishOnOwnEnvironmentBus")
    assert publish["Condition"] == {"StringLike": {"events:source": "microservices.*"}}


def test_no_task_role_or_boundary_can_look_up_a_database_at_runtime():
    boundary = boundary_statements(BoundaryScope("aws", REGION, ACCOUNT, "prod", key_arns=(KEY,)))
    actions = {a for s in task_role_statements(full_scope()) + boundary for a in s["Action"]}
    assert not {a for a in actions if a.startswith("rds:")}
    assert "rds-db:connect" in actions
