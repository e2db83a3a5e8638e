"""EventBus, EventSubscription, OutboxPipe and the backlog scaling policy under the mock runtime."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from components.events.bus import EventBus, EventBusArgs, EventSubscription, EventSubscriptionArgs
from components.events.outbox import OutboxPipe, OutboxPipeArgs
from components.events.scaling import backlog_scaling_policy
from devkit.mocks import ACCOUNT_ID, run_program

KEY = f"arn:aws:kms:eu-central-1:{ACCOUNT_ID}:key/11111111-2222-3333-4444-555555555555"
STREAM = f"arn:aws:dynamodb:eu-central-1:{ACCOUNT_ID}:table/prod-upload/stream/2026-12-01T00:00:00.000"
BOUNDARY = f"arn:aws:iam::{ACCOUNT_ID}:policy/prod-boundary"


def _run(build):
    def program():
        provider = aws.Provider("euc1", region="eu-central-1")
        return build(pulumi.ResourceOptions(provider=provider))
    return run_program(program, project="microservices-foundation", stack="prod", region="eu-central-1")


def _bus_and_subscription(opts):
    bus = EventBus("prod-events", EventBusArgs(environment="prod", archive_retention_days=90), opts)
    EventSubscription("prod-billing-from-upload", EventSubscriptionArgs(
        environment="prod", subscriber="billing", source="upload", detail_types=("UploadCompleted",),
        bus_name=bus.bus_name, kms_key_arn=KEY, max_receives=3), opts)


def test_bus_has_an_archive_with_the_environments_retention():
    recorder, _ = _run(_bus_and_subscription)
    bus = recorder.one("aws:cloudwatch/eventBus:EventBus")
    archive = recorder.one("aws:cloudwatch/eventArchive:EventArchive").inputs
    assert bus.inputs["name"] == "prod-events" and archive["retentionDays"] == 90
    assert archive["eventSourceArn"] == bus.outputs["arn"]


def test_subscription_queue_dead_letters_after_the_catalogs_max_receives_and_is_encrypted():
    recorder, _ = _run(_bus_and_subscription)
    queues = {q.inputs["name"]: q for q in recorder.of_type("aws:sqs/queue:Queue")}
    queue, dlq = queues["prod-billing-from-upload"], queues["prod-billing-from-upload-dlq"]
    assert json.loads(queue.inputs["redrivePolicy"]) == {"deadLetterTargetArn": dlq.outputs["arn"], "maxReceiveCount": 3}
    assert all(q.inputs["kmsMasterKeyId"] == KEY for q in queues.values())
    allow = recorder.one("aws:sqs/redriveAllowPolicy:RedriveAllowPolicy").inputs
    assert json.loads(allow["redriveAllowPolicy"]) == {"redrivePermission": "byQueue",
                                                       "sourceQueueArns": [queue.outputs["arn"]]}


def test_queue_and_dlq_policies_admit_only_the_subscriptions_rule():
    recorder, _ = _run(_bus_and_subscription)
    rule = recorder.one("aws:cloudwatch/eventRule:EventRule")
    assert json.loads(rule.inputs["eventPattern"]) == {"source": ["microservices.upload"],
                                                       "detail-type": ["UploadCompleted"]}
    policies = recorder.of_type("aws:sqs/queuePolicy:QueuePolicy")
    assert len(policies) == 2
    for policy in policies:
        statement, = json.loads(policy.inputs["policy"])["Statement"]
        assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": rule.outputs["arn"]}}


def test_target_has_its_own_retry_policy_and_dead_letter_queue():
    recorder, _ = _run(_bus_and_subscription)
    target = recorder.one("aws:cloudwatch/eventTarget:EventTarget")
    dlq = next(q for q in recorder.of_type("aws:sqs/queue:Queue") if q.inputs["name"].endswith("-dlq"))
    assert target.inputs["retryPolicy"] == {"maximumRetryAttempts": 185, "maximumEventAgeInSeconds": 86400}
    assert target.inputs["deadLetterConfig"] == {"arn": dlq.outputs["arn"]}
    assert {p.urn for p in recorder.of_type("aws:sqs/queuePolicy:QueuePolicy")} <= set(target.dependencies)


def _pipe(opts, desired_state="RUNNING"):
    OutboxPipe("prod-upload-outbox", OutboxPipeArgs(
        environment="prod", service="upload", detail_types=("UploadCompleted",), account_id=ACCOUNT_ID,
        region="eu-central-1", stream_arn=STREAM, table_key_arn=KEY,
        bus_arn=f"arn:aws:events:eu-central-1:{ACCOUNT_ID}:event-bus/prod-events", queue_key_arn=KEY,
        permissions_boundary_arn=BOUNDARY, desired_state=desired_state), opts)


def test_outbox_pipe_filters_outbox_inserts_and_publishes_with_the_services_source():
    recorder, _ = _run(_pipe)
    pipe = recorder.one("aws:pipes/pipe:Pipe").inputs
    assert pipe["source"] == STREAM and pipe["desiredState"] == "RUNNING"
    pattern = json.loads(pipe["sourceParameters"]["filterCriteria"]["filters"][0]["pattern"])
    assert pattern["eventName"] == ["INSERT"] and pattern["dynamodb"]["NewImage"]["kind"] == {"S": ["outbox"]}
    assert pipe["targetParameters"]["eventbridgeEventBusParameters"]["source"] == "microservices.upload"
    assert pipe["sourceParameters"]["dynamodbStreamParameters"]["maximumRetryAttempts"] == 10


def test_outbox_pipe_role_carries_the_boundary_and_only_its_stream_and_bus():
    recorder, _ = _run(_pipe)
    role = recorder.one("aws:iam/role:Role").inputs
    assert role["permissionsBoundary"] == BOUNDARY
    assert json.loads(role["assumeRolePolicy"])["Statement"][0]["Principal"] == {"Service": "pipes.amazonaws.com"}
    statements = json.loads(recorder.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])["Statement"]
    assert {s["Sid"]: s["Resource"] for s in statements}["ReadOwnTableStream"] == STREAM


def test_backlog_policy_is_target_tracking_on_metric_math():
    def build(opts):
        target = aws.appautoscaling.Target("t", service_namespace="ecs", scalable_dimension="ecs:service:DesiredCount",
                                           resource_id="service/prod-cluster/prod-billing", min_capacity=2,
                                           max_capacity=4, opts=opts)
        backlog_scaling_policy("prod-billing-backlog", ["prod-billing-from-upload"], "prod-cluster", "prod-billing",
                               target, opts=opts)
    recorder, _ = _run(build)
    policy = recorder.one("aws:appautoscaling/policy:Policy").inputs
    metrics = policy["targetTrackingScalingPolicyConfiguration"]["customizedMetricSpecification"]["metrics"]
    assert [m["id"] for m in metrics] == ["visible0", "tasks", "backlog_per_task"]
    assert metrics[0]["metricStat"]["metric"]["dimensions"] == [{"name": "QueueName", "value": "prod-billing-from-upload"}]
