"""What the four stacks deploy does what it says at run time, read from their recorded resources.

The mocks accept any alarm, topic, dashboard and policy; AWS accepts them too, and then they never fire,
reach no one, draw nothing or allow nothing. These tests read every registered resource of the four
offline previews and check the run-time facts the API cannot refuse:

* every CloudWatch alarm and scaling policy reads metrics that something in its stack publishes under
  the stack's configuration (ECS/ContainerInsights only from a cluster with Container Insights on), and
  treats missing data as breaching only for metrics that report every period;
* every alarm action, budget notification and alert topic reaches at least one subscriber;
* every dashboard expression names only ids of its own widget;
* every Allow statement of every IAM document can take effect: actions without a resource type are
  granted on "*", actions with one on an ARN of that type, and every condition key applies to the action;
* the X-Ray sampling rule keys only on span attributes the services set.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache, lru_cache
from typing import Any

import pytest
from policy_sentry.querying.actions import get_action_data

from components.observability.tracing import SPAN_ATTRIBUTES_SET
from devkit.mocks import RecordedResource
from devkit.run import StackPreview

STACKS = ["staging", "staging-euw1", "prod", "prod-euw1"]
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
TOPIC, SUBSCRIPTION = "aws:sns/topic:Topic", "aws:sns/topicSubscription:TopicSubscription"
# Metrics AWS publishes every period while their resource exists (a gap means the resource or its
# metrics are gone, which may rightly page): Route 53 health checks, and Container Insights' task counts.
ALWAYS_REPORTING = {("AWS/Route53", "HealthCheckStatus"), ("ECS/ContainerInsights", "RunningTaskCount"),
                    ("ECS/ContainerInsights", "DesiredTaskCount")}


@pytest.fixture(scope="module", params=STACKS)
def preview(request: pytest.FixtureRequest) -> StackPreview:
    fixture = {"staging": "staging", "staging-euw1": "staging_standby", "prod": "prod",
               "prod-euw1": "prod_standby"}[request.param]
    return request.getfixturevalue(fixture)


def _metrics_of_alarm(inputs: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, str]]]:
    if inputs.get("metricName"):
        yield inputs["namespace"], inputs["metricName"], dict(inputs.get("dimensions") or {})
    for query in inputs.get("metricQueries") or []:
        metric = query.get("metric")
        if metric:
            yield metric["namespace"], metric["metricName"], dict(metric.get("dimensions") or {})


def _metrics_of_scaling(inputs: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, str]]]:
    configuration = inputs.get("targetTrackingScalingPolicyConfiguration") or {}
    for metric in (configuration.get("customizedMetricSpecification") or {}).get("metrics") or []:
        stat = (metric.get("metricStat") or {}).get("metric")
        if stat:
            yield stat["namespace"], stat["metricName"], {d["name"]: d["value"] for d in stat.get("dimensions") or []}


class Emitters:
    """What the stack's resources publish, by namespace: the dimension values a metric can carry."""

    def __init__(self, preview: StackPreview):
        recorder = preview.recorder
        self.clusters = {r.outputs.get("name"): r for r in recorder.of_type("aws:ecs/cluster:Cluster")}
        self.services = {(r.inputs.get("cluster"), r.outputs.get("name"))
                         for r in recorder.of_type("aws:ecs/service:Service")}
        self.load_balancers = {r.outputs.get("arnSuffix") for r in recorder.of_type("aws:lb/loadBalancer:LoadBalancer")}
        self.target_groups = {r.outputs.get("arnSuffix") for r in recorder.of_type("aws:lb/targetGroup:TargetGroup")}
        region = preview.settings.region
        self.tables = {r.outputs.get("name") or r.inputs.get("name") for r in recorder.of_type("aws:dynamodb/table:Table")}
        # A standby's tables are the replicas its primary's global tables keep in this region, same name.
        if preview.primary is not None:
            self.tables |= {r.inputs.get("name") for r in preview.primary.recorder.of_type("aws:dynamodb/table:Table")
                            if any(replica.get("regionName") == region for replica in r.inputs.get("replicas") or [])}
        self.queues = {r.outputs.get("name") for r in recorder.of_type("aws:sqs/queue:Queue")}
        self.db_clusters = {r.inputs.get("clusterIdentifier") for r in recorder.of_type("aws:rds/cluster:Cluster")}
        self.health_checks = {r.outputs.get("id") for r in recorder.of_type("aws:route53/healthCheck:HealthCheck")}
        self.filters = {(t["namespace"], t["name"]) for r in recorder.of_type("aws:cloudwatch/logMetricFilter:LogMetricFilter")
                        for t in [r.inputs["metricTransformation"]]}
        self.pipes = {r.outputs.get("name") or r.inputs.get("name") for r in recorder.of_type("aws:pipes/pipe:Pipe")}

    def insights_on(self, cluster_name: str) -> bool:
        cluster = self.clusters.get(cluster_name)
        settings = {s["name"]: s["value"] for s in (cluster.inputs.get("settings") or [])} if cluster else {}
        return settings.get("containerInsights", "disabled") != "disabled"

    def problem(self, namespace: str, name: str, dims: dict[str, str]) -> str | None:
        """Why this metric is never published in this stack (None: something publishes it)."""
        cluster_arns = {r.outputs.get("arn"): n for n, r in self.clusters.items()}
        if namespace in ("AWS/ECS", "ECS/ContainerInsights"):
            cluster = dims.get("ClusterName")
            if cluster not in self.clusters:
                return f"no cluster {cluster!r}"
            # Service Connect metrics (with DiscoveryName) name the client service, not an ECS service.
            known = any(cluster_arns.get(c) == cluster and s == dims.get("ServiceName") for c, s in self.services)
            if "ServiceName" in dims and "DiscoveryName" not in dims and not known:
                return f"no service {dims['ServiceName']!r} in {cluster!r}"
            if namespace == "ECS/ContainerInsights" and not self.insights_on(cluster):
                return f"Container Insights is disabled on {cluster!r}"
            return None
        if namespace == "AWS/ApplicationELB":
            if dims.get("LoadBalancer") not in self.load_balancers:
                return f"no load balancer {dims.get('LoadBalancer')!r}"
            if "TargetGroup" in dims and dims["TargetGroup"] not in self.target_groups:
                return f"no target group {dims['TargetGroup']!r}"
            return None
        checks = {"AWS/DynamoDB": ("TableName", self.tables), "AWS/SQS": ("QueueName", self.queues),
                  "AWS/RDS": ("DBClusterIdentifier", self.db_clusters),
                  "AWS/Route53": ("HealthCheckId", self.health_checks)}
        if namespace in checks:
            key, known = checks[namespace]
            return None if dims.get(key) in known else f"no {key} {dims.get(key)!r}"
        if namespace == "AWS/Usage":
            return None  # account-wide usage metrics AWS publishes for every account
        if namespace.startswith("AWS/"):
            return f"namespace {namespace} is not checked by this test; add its emitter"
        return None if (namespace, name) in self.filters else f"no metric filter publishes {namespace}/{name}"


def test_every_alarm_reads_metrics_its_stack_publishes(preview: StackPreview) -> None:
    emitters = Emitters(preview)
    problems = []
    for alarm in preview.recorder.of_type(ALARM):
        for namespace, name, dims in _metrics_of_alarm(alarm.inputs):
            why = emitters.problem(namespace, name, dims)
            if why:
                problems.append(f"{alarm.name}: {namespace}/{name}: {why}")
    for policy in preview.recorder.of_type("aws:appautoscaling/policy:Policy"):
        for namespace, name, dims in _metrics_of_scaling(policy.inputs):
            why = emitters.problem(namespace, name, dims)
            if why:
                problems.append(f"{policy.name}: {namespace}/{name}: {why}")
    assert not problems, "\n".join(problems)


def test_missing_data_breaches_only_for_metrics_that_report_every_period(preview: StackPreview) -> None:
    offenders = []
    for alarm in preview.recorder.of_type(ALARM):
        if alarm.inputs.get("treatMissingData") != "breaching":
            continue
        metrics = {(namespace, name) for namespace, name, _ in _metrics_of_alarm(alarm.inputs)}
        if not metrics <= ALWAYS_REPORTING:
            offenders.append((alarm.name, sorted(metrics - ALWAYS_REPORTING)))
    assert offenders == []


def _subscribed_topics(preview: StackPreview) -> set[str]:
    return {s.inputs["topic"] for s in preview.recorder.of_type(SUBSCRIPTION) if s.inputs.get("endpoint")}


def test_every_alert_topic_and_alarm_action_reaches_a_subscriber(preview: StackPreview) -> None:
    subscribed = _subscribed_topics(preview)
    topics = {t.outputs["arn"]: t.name for t in preview.recorder.of_type(TOPIC)}
    assert {name for arn, name in topics.items() if arn not in subscribed} == set()
    unreached = []
    for alarm in [*preview.recorder.of_type(ALARM), *preview.recorder.of_type(COMPOSITE)]:
        for key in ("alarmActions", "okActions", "insufficientDataActions"):
            for action in alarm.inputs.get(key) or []:
                if action.startswith("arn:aws:sns:") and action not in subscribed:
                    unreached.append((alarm.name, key, action))
    assert unreached == []


def test_every_budget_notification_reaches_a_subscriber(preview: StackPreview) -> None:
    subscribed = _subscribed_topics(preview)
    for budget in preview.recorder.of_type("aws:budgets/budget:Budget"):
        for notification in budget.inputs.get("notifications") or []:
            reached = list(notification.get("subscriberEmailAddresses") or []) + [
                t for t in notification.get("subscriberSnsTopicArns") or [] if t in subscribed]
            assert reached, f"{budget.name}: {notification['notificationType']} {notification['threshold']} % reaches no one"


_EXPRESSION_ID = re.compile(r"\b([a-z][A-Za-z0-9_]*)\b")
# Metric math functions and keywords that look like ids (lower case ones; functions are upper case).
_NOT_IDS = {"e", "pi"}


def _widget_rows(body: dict[str, Any]) -> Iterator[tuple[str, list[Any]]]:
    for widget in body.get("widgets") or []:
        properties = widget.get("properties") or {}
        yield properties.get("title", "?"), properties.get("metrics") or []


def test_every_dashboard_expression_names_only_ids_of_its_own_widget(preview: StackPreview) -> None:
    problems = []
    for dashboard in preview.recorder.of_type("aws:cloudwatch/dashboard:Dashboard"):
        for title, rows in _widget_rows(json.loads(dashboard.inputs["dashboardBody"])):
            options = [row[-1] for row in rows if row and isinstance(row[-1], dict)]
            ids = {o["id"] for o in options if "id" in o}
            for o in options:
                if "expression" not in o:
                    continue
                names = {n for n in _EXPRESSION_ID.findall(o["expression"]) if n not in _NOT_IDS}
                if names - ids:
                    problems.append(f"{dashboard.name} / {title}: {o['expression']} names {sorted(names - ids)}")
    assert not problems, "\n".join(problems)


# ----- IAM documents: every statement can take effect -----

@lru_cache(maxsize=2048)
def _action_rows(action: str) -> tuple[tuple[str, frozenset[str]], ...]:
    service, name = action.split(":", 1)
    rows = get_action_data(service, name).get(service) or []
    return tuple((row["resource_arn_format"], frozenset(row["condition_keys"])) for row in rows)


ANY = object()  # a run of any characters: `*` in a policy's ARN, `${Variable}` in an ARN format


def _tokens(text: str, variables: bool) -> tuple[object, ...]:
    tokens: list[object] = []
    for part in re.split(r"(\$\{[^}]*\}|\*)", text):
        if part == "*" or (variables and part.startswith("${")):
            tokens.append(ANY)
        else:
            tokens.extend(part.replace("?", "") if not variables else part)
    return tuple(tokens)


def _overlap(policy_arn: str, arn_format: str) -> bool:
    """Whether some ARN matches both the policy's (wildcarded) ARN and the action's ARN format."""
    a, b = _tokens(policy_arn, False), _tokens(arn_format.replace("${Partition}", "aws"), True)

    @cache
    def match(i: int, j: int) -> bool:
        if i == len(a) and j == len(b):
            return True
        if i < len(a) and a[i] is ANY:
            return match(i + 1, j) or (j < len(b) and match(i, j + 1))
        if j < len(b) and b[j] is ANY:
            return match(i, j + 1) or (i < len(a) and match(i + 1, j))
        return i < len(a) and j < len(b) and a[i] == b[j] and match(i + 1, j + 1)

    return match(0, 0)


def _key_applies(key: str, supported: frozenset[str]) -> bool:
    if key.lower().startswith("aws:"):
        return True
    for candidate in supported:
        pattern = re.sub(r"\\\$\\\{[^}]*\\\}", ".+", re.escape(candidate))
        if re.fullmatch(pattern, key, flags=re.IGNORECASE):
            return True
    return False


def _documents(preview: StackPreview) -> Iterator[tuple[RecordedResource, dict[str, Any]]]:
    for typ, key in (("aws:iam/rolePolicy:RolePolicy", "policy"), ("aws:iam/policy:Policy", "policy")):
        for resource in preview.recorder.of_type(typ):
            document = resource.inputs.get(key)
            yield resource, json.loads(document) if isinstance(document, str) else document
    for role in preview.recorder.of_type("aws:iam/role:Role"):
        for inline in role.inputs.get("inlinePolicies") or []:
            yield role, json.loads(inline["policy"])


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statement_problems(statement: dict[str, Any]) -> list[str]:
    """Why (part of) an identity-policy Allow statement can never allow anything; [] when it can."""
    if statement.get("Effect") != "Allow" or "NotAction" in statement or "NotResource" in statement:
        return []
    resources = [str(r) for r in _as_list(statement.get("Resource"))]
    keys = {key for operator, block in (statement.get("Condition") or {}).items()
            if "IfExists" not in operator and operator != "Null" for key in block}
    problems = []
    for action in _as_list(statement.get("Action")):
        rows = _action_rows(action)
        if not rows:
            problems.append(f"{action} is not in the IAM database")
            continue
        formats = [fmt for fmt, _ in rows if fmt != "*"]
        if not formats and "*" not in resources:
            problems.append(f"{action} supports only Resource \"*\", the statement names {resources}")
        elif formats and "*" not in resources and not any(
                _overlap(resource, fmt) for fmt in formats for resource in resources):
            problems.append(f"{action} on {resources} names no resource of its types {formats}")
        supported = frozenset().union(*(condition_keys for _, condition_keys in rows))
        for key in keys:
            if not _key_applies(key, supported):
                problems.append(f"{action} has no condition key {key}")
    return problems


def test_the_statement_check_finds_a_star_only_action_on_an_arn_and_a_foreign_condition_key() -> None:
    stream = "arn:aws:dynamodb:eu-central-1:123456789012:table/prod-orders/stream/2026-01-01T00:00:00.000"
    assert statement_problems({"Effect": "Allow", "Action": ["dynamodb:ListStreams"], "Resource": stream})
    assert statement_problems({"Effect": "Allow", "Action": ["dynamodb:DescribeStream"], "Resource": stream}) == []
    assert statement_problems({"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": stream})
    group = "arn:aws:logs:eu-central-1:123456789012:log-group:/ecs/prod/auth:*"
    assert statement_problems({"Effect": "Allow", "Action": ["logs:PutLogEvents"], "Resource": group}) == []
    assert statement_problems({"Effect": "Allow", "Action": ["logs:PutLogEvents"],
                               "Resource": "arn:aws:logs:eu-central-1:123456789012:log-group:/ecs/prod/auth"})
    assert statement_problems({"Effect": "Allow", "Action": ["events:PutEvents"], "Resource": "*",
                               "Condition": {"StringEquals": {"sqs:QueueName": "x"}}})


def test_every_allow_statement_of_every_identity_policy_can_take_effect(preview: StackPreview) -> None:
    problems = []
    for resource, document in _documents(preview):
        for index, statement in enumerate(_as_list(document.get("Statement"))):
            problems += [f"{resource.name} statement {statement.get('Sid', index)}: {p}"
                         for p in statement_problems(statement)]
    assert not problems, "\n".join(problems)


def test_the_sampling_rule_keys_only_on_span_attributes_the_services_set(preview: StackPreview) -> None:
    rules = preview.recorder.of_type("aws:xray/samplingRule:SamplingRule")
    for rule in rules:
        assert set(rule.inputs.get("attributes") or {}) <= SPAN_ATTRIBUTES_SET, rule.name
