"""What the mocks cannot check: the event plumbing's payloads against botocore's models of the EventBridge,
Pipes, SQS, Application Auto Scaling and CloudWatch APIs, and event patterns / pipe filters against
EventBridge's exact-match semantics (a field matches when its value is one of the listed values; every
pattern field must match; a missing field never matches)."""

from __future__ import annotations

import json

import botocore.session
import pytest
from botocore.validate import ParamValidator

from components.events import alarms, documents
from components.events.scaling import BacklogScaling
from tests.ecs_api import model_violations

SESSION = botocore.session.get_session()
ACCOUNT, REGION = "123456789012", "eu-central-1"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:prod-billing-from-upload"
DLQ = f"{QUEUE}-dlq"
RULE = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/prod-events/prod-billing-from-upload"
BUS = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/prod-events"
STREAM = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/prod-upload/stream/2026-12-01T00:00:00.000"


def problems(service: str, operation: str, request: dict) -> list[str]:
    shape = SESSION.get_service_model(service).operation_model(operation).input_shape
    report = ParamValidator().validate(request, shape)
    return ([report.generate_report()] if report.has_errors() else []) + model_violations(request, shape)


def matches(pattern: dict, event: dict) -> bool:
    """EventBridge exact-match semantics for patterns made of arrays of strings and nested objects."""
    for key, expected in pattern.items():
        if key not in event:
            return False
        value = event[key]
        if isinstance(expected, dict):
            if not isinstance(value, dict) or not matches(expected, value):
                return False
        elif not any(v in expected for v in (value if isinstance(value, list) else [value])):
            return False
    return True


def upload_event(detail_type: str, source: str = "microservices.upload") -> dict:
    return {"version": "0", "id": "1", "detail-type": detail_type, "source": source, "account": ACCOUNT,
            "time": "2026-12-01T00:00:00Z", "region": REGION, "resources": [], "detail": {"eventId": "e1"}}


def test_rule_with_the_subscription_pattern_is_a_valid_put_rule_request():
    pattern = documents.event_pattern("upload", ["UploadCompleted", "UploadFailed"])
    assert problems("events", "PutRule", {"Name": "prod-billing-from-upload", "EventBusName": "prod-events",
                                          "EventPattern": json.dumps(pattern), "State": "ENABLED"}) == []


def test_pattern_matches_only_the_publishers_subscribed_detail_types():
    pattern = documents.event_pattern("upload", ["UploadCompleted"])
    assert matches(pattern, upload_event("UploadCompleted"))
    assert not matches(pattern, upload_event("UploadFailed"))
    assert not matches(pattern, upload_event("UploadCompleted", source="microservices.vc-start"))


def test_target_with_retry_policy_and_dead_letter_queue_is_a_valid_put_targets_request():
    retry = documents.RetryPolicy()
    request = {"Rule": "prod-billing-from-upload", "EventBusName": "prod-events", "Targets": [{
        "Id": "queue", "Arn": QUEUE, "DeadLetterConfig": {"Arn": DLQ},
        "RetryPolicy": {"MaximumRetryAttempts": retry.maximum_retry_attempts,
                        "MaximumEventAgeInSeconds": retry.maximum_event_age_seconds}}]}
    assert problems("events", "PutTargets", request) == []


@pytest.mark.parametrize("attempts, age", [(186, 3600), (10, 59), (-1, 3600), (10, 86401)])
def test_retry_policies_outside_the_api_ranges_are_refused(attempts, age):
    with pytest.raises(ValueError):
        documents.RetryPolicy(attempts, age)
    shape_problems = problems("events", "PutTargets", {"Rule": "r", "Targets": [{
        "Id": "q", "Arn": QUEUE, "RetryPolicy": {"MaximumRetryAttempts": attempts, "MaximumEventAgeInSeconds": age}}]})
    assert shape_problems, "botocore's model agrees these are out of range"


def test_redrive_and_redrive_allow_policies_are_valid_queue_attributes():
    request = {"QueueUrl": "https://sqs.eu-central-1.amazonaws.com/123456789012/prod-billing-from-upload",
               "Attributes": {"RedrivePolicy": json.dumps(documents.redrive_policy(DLQ, 5)),
                              "RedriveAllowPolicy": json.dumps(documents.redrive_allow_policy(QUEUE))}}
    assert problems("sqs", "SetQueueAttributes", request) == []
    assert json.loads(request["Attributes"]["RedrivePolicy"]) == {"deadLetterTargetArn": DLQ, "maxReceiveCount": 5}
    with pytest.raises(ValueError):
        documents.redrive_policy(DLQ, 0)


def test_queue_policy_admits_only_eventbridge_for_its_rule():
    statement, = documents.queue_policy(QUEUE, RULE)["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage" and statement["Resource"] == QUEUE
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": RULE}}


def test_outbox_pipe_is_a_valid_create_pipe_request():
    request = {"Name": documents.outbox_pipe_name("prod", "upload"), "Source": STREAM, "Target": BUS,
               "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/pipe", "DesiredState": "RUNNING",
               "SourceParameters": documents.outbox_source_parameters(["UploadCompleted"], DLQ),
               "TargetParameters": documents.outbox_target_parameters("upload")}
    assert problems("pipes", "CreatePipe", request) == []


def stream_record(event_name: str, image: dict) -> dict:
    return {"eventID": "1", "eventName": event_name, "eventSource": "aws:dynamodb", "awsRegion": REGION,
            "dynamodb": {"Keys": {"pk": {"S": "outbox#e1"}}, "NewImage": image, "StreamViewType": "NEW_IMAGE"}}


OUTBOX_ITEM = {"pk": {"S": "outbox#e1"}, "kind": {"S": "outbox"}, "eventId": {"S": "e1"},
               "detailType": {"S": "UploadCompleted"}, "payload": {"S": "{}"}, "occurredAt": {"S": "2026-12-01T00:00:00Z"}}


def test_pipe_filter_passes_only_inserted_outbox_items_of_declared_types():
    pattern = documents.outbox_filter(["UploadCompleted"])
    assert matches(pattern, stream_record("INSERT", OUTBOX_ITEM))
    assert not matches(pattern, stream_record("MODIFY", OUTBOX_ITEM))
    assert not matches(pattern, stream_record("INSERT", {**OUTBOX_ITEM, "kind": {"S": "upload"}}))
    assert not matches(pattern, stream_record("INSERT", {**OUTBOX_ITEM, "detailType": {"S": "UploadDeleted"}}))
    assert not matches(pattern, stream_record("INSERT", {k: v for k, v in OUTBOX_ITEM.items() if k != "kind"}))


def test_pipe_target_reads_detail_type_from_the_item_and_publishes_as_the_service():
    parameters = documents.outbox_target_parameters("upload")["EventBridgeEventBusParameters"]
    assert parameters == {"Source": "microservices.upload", "DetailType": "$.dynamodb.NewImage.detailType.S"}
    template = documents.outbox_target_parameters("upload")["InputTemplate"]
    filled = template.replace("<$.dynamodb.NewImage.eventId.S>", "e1").replace(
        "<$.dynamodb.NewImage.occurredAt.S>", "t").replace("<$.dynamodb.NewImage.payload.S>", "p")
    assert json.loads(filled) == {"eventId": "e1", "occurredAt": "t", "payload": "p"}


def test_backlog_scaling_is_a_valid_put_scaling_policy_with_one_returned_series():
    configuration = BacklogScaling("prod-cluster", "prod-billing", ["prod-billing-from-upload",
                                                                    "prod-billing-from-vc-start"]).configuration()
    request = {"PolicyName": "prod-billing-backlog", "ServiceNamespace": "ecs",
               "ResourceId": "service/prod-cluster/prod-billing", "ScalableDimension": "ecs:service:DesiredCount",
               "PolicyType": "TargetTrackingScaling", "TargetTrackingScalingPolicyConfiguration": configuration}
    assert problems("application-autoscaling", "PutScalingPolicy", request) == []
    metrics = configuration["CustomizedMetricSpecification"]["Metrics"]
    returned = [m for m in metrics if m["ReturnData"]]
    assert len(returned) == 1 and returned[0]["Expression"] == "(visible0 + visible1) / tasks"
    ids = {m["Id"] for m in metrics}
    assert set(returned[0]["Expression"].replace("(", " ").replace(")", " ").replace("+", " ").replace("/", " ")
               .split()) <= ids


def test_backlog_scaling_refuses_more_queues_than_metric_math_allows():
    with pytest.raises(ValueError, match="10 metric queries"):
        BacklogScaling("c", "s", [f"q{i}" for i in range(10)])


@pytest.mark.parametrize("specs", [
    alarms.queue_alarms("prod-billing-from-upload", "prod-billing-from-upload-dlq"),
    alarms.table_alarms("prod-upload"),
    alarms.database_alarms("prod-persona"),
])
def test_alarm_specs_are_valid_put_metric_alarm_requests(specs):
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:prod-alerts"
    for spec in specs:
        assert problems("cloudwatch", "PutMetricAlarm", spec.request([topic])) == []


def test_dead_letter_queue_alarm_fires_on_the_first_message():
    dlq_alarm = alarms.queue_alarms("q", "q-dlq")[0]
    assert (dlq_alarm.metric_name, dlq_alarm.comparison, dlq_alarm.threshold) == (
        "ApproximateNumberOfMessagesVisible", "GreaterThanThreshold", 0)


@pytest.mark.parametrize("make", [
    lambda: documents.subscription_name("prod", "a" * 32, "b" * 32),
    lambda: documents.archive_name("x" * 40),
])
def test_names_beyond_api_limits_are_refused(make):
    with pytest.raises(ValueError):
        make()
