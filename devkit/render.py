"""Text and JSON views of an offline preview."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from typing import Any

from devkit.mocks import UNKNOWN, RecordedResource, Recorder, to_plain
from devkit.run import StackPreview
from foundation.rto import TARGET_RTO_OBJECTIVE_MINUTES


def owning_component(resource: RecordedResource, by_urn: dict[str, RecordedResource]) -> str:
    """The outermost component (below the stack) a resource belongs to, as `type name`."""
    owner = None
    current = resource
    while current.parent and current.parent in by_urn:
        current = by_urn[current.parent]
        if not current.custom:
            owner = current
    if owner is None:
        return "(stack)" if resource.custom else f"{resource.type} {resource.name}"
    return f"{owner.type} {owner.name}"


@dataclass(frozen=True)
class ResourceCounts:
    """What a preview registered. Like `pulumi preview`'s count, `total` includes component resources
    (and reads such as a StackReference); `cloud` is what a provider creates."""

    total: int
    cloud: int
    components: int


def resource_counts(recorder: Recorder) -> ResourceCounts:
    custom = sum(1 for r in recorder.resources if r.custom)
    return ResourceCounts(total=len(recorder.resources), cloud=custom, components=len(recorder.resources) - custom)


def resource_summary(preview: StackPreview) -> dict[str, Counter]:
    by_urn = {r.urn: r for r in preview.recorder.resources}
    groups: dict[str, Counter] = defaultdict(Counter)
    for resource in preview.recorder.resources:
        if resource.custom:
            groups[owning_component(resource, by_urn)][resource.type] += 1
    return groups


def render_text(preview: StackPreview) -> str:
    settings = preview.settings
    lines = [f"Stack {preview.stack}: {settings.environment} {settings.role} in {settings.region} "
             f"(offline preview, mock runtime)", ""]
    groups = resource_summary(preview)
    counts = resource_counts(preview.recorder)
    lines.append(f"Resources: {counts.total} ({counts.cloud} cloud resources and providers, "
                 f"{counts.components} components)")
    for component in sorted(groups):
        types = groups[component]
        lines.append(f"  {component}  ({sum(types.values())})")
        for typ, count in sorted(types.items()):
            lines.append(f"    {count:>3}  {typ}")
    lines += ["", "Services:"] + [f"  {line}" for line in service_lines(preview)]
    lines += ["", "Operations:"] + [f"  {line}" for line in operations_lines(preview)]
    legacy = legacy_lines(preview)
    if legacy:
        lines += ["", "Legacy (strangler fig):"] + [f"  {line}" for line in legacy]
    lines += ["", "Failover:"] + [f"  {line}" for line in failover_lines(preview)]
    lines += ["", "Outputs:"]
    for key, value in preview.outputs.items():
        if value is None:
            continue
        shown = "[secret]" if key in settings.secret_keys else _short(value)
        lines.append(f"  {key}: {shown}")
    return "\n".join(lines)


def _app_protocol(family: list[RecordedResource]) -> str:
    """The app container's appProtocol; unknown until `pulumi up` when the image URI is (--unknowns)."""
    task = next((r for r in family if r.type == "aws:ecs/taskDefinition:TaskDefinition"), None)
    definitions = task.inputs.get("containerDefinitions") if task else None
    if not isinstance(definitions, str):
        return "(protocol unknown)"
    try:
        return str(json.loads(definitions)[0]["portMappings"][0]["appProtocol"])
    except (TypeError, ValueError, KeyError, IndexError):
        return "(protocol unknown)"


def service_lines(preview: StackPreview) -> list[str]:
    """One block per MeshService, read back from what was registered (not from settings)."""
    recorder = preview.recorder
    by_urn = {r.urn: r for r in recorder.resources}
    legacy_groups = legacy_target_groups(preview)
    lines = []
    for service in sorted(recorder.of_type("aws:ecs/service:Service"), key=lambda r: r.inputs["name"]):
        component = by_urn[service.parent or ""]  # a service always has its component as parent
        family = [r for r in recorder.resources if r.parent == component.urn]
        inputs = service.inputs
        size = preview.settings.task_size(inputs["name"])
        connect = inputs["serviceConnectConfiguration"]["services"][0]
        tls = "TLS via AWS Private CA" if connect.get("tls") else "no TLS"
        timeout = connect.get("timeout", {})
        deployment = inputs["deploymentConfiguration"]
        strategy = deployment["strategy"]
        if strategy == "CANARY":
            step = (f"canary {deployment['canaryConfiguration']['canaryPercent']:g}% baked "
                    f"{deployment['canaryConfiguration']['canaryBakeTimeInMinutes']} min, then bake "
                    f"{deployment['bakeTimeInMinutes']} min")
        elif strategy == "LINEAR":
            step = (f"linear {deployment['linearConfiguration']['stepPercent']:g}% steps baked "
                    f"{deployment['linearConfiguration']['stepBakeTimeInMinutes']} min, then bake "
                    f"{deployment['bakeTimeInMinutes']} min")
        else:
            step = "tasks replaced in place (the route is split with a legacy Lambda)"
        breaker = inputs.get("deploymentCircuitBreaker") or {}
        alarms = inputs.get("alarms") or {}
        target = next(r for r in family if r.type == "aws:appautoscaling/target:Target")
        policies = [r.inputs["targetTrackingScalingPolicyConfiguration"]["predefinedMetricSpecification"]
                    ["predefinedMetricType"] for r in family if r.type == "aws:appautoscaling/policy:Policy"]
        rules = sorted((r for r in family if r.type == "aws:lb/listenerRule:ListenerRule"),
                       key=lambda r: r.inputs["priority"])
        alias = connect["clientAlias"][0]
        proxy_port = connect.get("ingressPortOverride")
        lines.append(f"{inputs['name']}: {alias['dnsName']}:{alias['port']:g} {_app_protocol(family)}"
                     + (f" (proxy on {proxy_port:g})" if proxy_port else "")
                     + f", {tls}, timeouts {timeout.get('perRequestTimeoutSeconds', 0):g} s/request "
                       f"{timeout.get('idleTimeoutSeconds', 0):g} s idle")
        lines.append(f"    task {size.task_cpu} CPU / {size.task_memory} MiB = app {size.app_cpu}/{size.app_memory} "
                     f"+ tracing {size.sidecar_cpu}/{size.sidecar_memory} + Service Connect proxy "
                     f"{size.proxy_cpu}/{size.proxy_memory}, rounded up to a Fargate size")
        lines.append(f"    deploy {strategy}: {step}; "
                     f"circuit breaker {'on' if breaker.get('enable') else 'off (ECS: rolling updates only)'}; "
                     f"{len(alarms.get('alarmNames', []))} alarms, rollback {'on' if alarms.get('rollback') else 'OFF'}")
        lines.append(f"    autoscaling {target.inputs['minCapacity']:g}-{target.inputs['maxCapacity']:g} tasks on "
                     f"{', '.join(sorted(set(policies)))}")
        for rule in rules:
            paths = rule.inputs["conditions"][0]["pathPattern"]["values"]
            groups = rule.inputs["actions"][0].get("forward", {}).get("targetGroups", [])
            legacy = [g for g in groups if g["arn"] in legacy_groups]
            split = ""
            if legacy:
                ecs = sum(g["weight"] for g in groups if g["arn"] not in legacy_groups)
                split = (f" -> {ecs:g}% ECS, {sum(g['weight'] for g in legacy):g}% legacy Lambda "
                         f"{', '.join(legacy_groups[g['arn']] for g in legacy)}")
            lines.append(f"    ALB rule priority {rule.inputs['priority']:g}: {' '.join(paths)}{split}")
        lines += [f"    {line}" for line in data_lines(preview, inputs["name"])]
        observability = next((r for r in family if r.type == SERVICE_OBSERVABILITY), None)
        if observability is not None:
            lines += [f"    {line}" for line in observability_lines(preview, recorder.children_of(observability.urn))]
    return lines


def legacy_target_groups(preview: StackPreview) -> dict[str, str]:
    """Lambda target group ARN -> the function it invokes (strangler fig)."""
    return {str(tg.outputs.get("arn")): str(tg.inputs.get("name"))
            for tg in preview.recorder.of_type("aws:lb/targetGroup:TargetGroup") if tg.inputs.get("targetType") == "lambda"}


def legacy_lines(preview: StackPreview) -> list[str]:
    """The ALB's default action and the Lambda functions behind the ALB."""
    groups = legacy_target_groups(preview)
    lines = []
    for listener in sorted(preview.recorder.of_type("aws:lb/listener:Listener"), key=lambda r: r.inputs["port"]):
        action = listener.inputs["defaultActions"][0]
        if action["type"] == "forward":
            target = groups.get(str(action.get("targetGroupArn")), _short(action.get("targetGroupArn")))
            lines.append(f"listener {listener.inputs['port']:g} default: forward to legacy Lambda target group {target}")
    for attachment in preview.recorder.of_type("aws:lb/targetGroupAttachment:TargetGroupAttachment"):
        lines.append(f"{groups.get(str(attachment.inputs['targetGroupArn']), '?')} invokes "
                     f"{_short(attachment.inputs['targetId'])}")
    return lines



SERVICE_OBSERVABILITY = "microservices:observability:ServiceObservability"
_SYMBOLS = {"GreaterThanThreshold": ">", "GreaterThanOrEqualToThreshold": ">=", "LessThanThreshold": "<",
            "LessThanOrEqualToThreshold": "<="}


def alarm_condition(inputs: dict) -> str:
    """`<what> <op> <threshold> in <m> of <n> x <period> s`, read from a registered MetricAlarm."""
    queries = inputs.get("metricQueries") or []
    returned = next((q for q in queries if q.get("returnData")), None)
    if returned is not None:
        what = returned.get("label") or returned.get("expression")
        period = next(q["metric"]["period"] for q in queries if q.get("metric"))
    else:
        what = f"{inputs['metricName']} {inputs.get('extendedStatistic') or inputs.get('statistic')}"
        period = inputs["period"]
    return (f"{what} {_SYMBOLS[inputs['comparisonOperator']]} {inputs['threshold']:g} in "
            f"{inputs.get('datapointsToAlarm') or inputs['evaluationPeriods']:g} of {inputs['evaluationPeriods']:g} "
            f"x {period:g} s")


def pages_to(preview: StackPreview, inputs: dict, composite_name: str | None = None,
             alarm: RecordedResource | None = None) -> str:
    """Where an alarm's ALARM notifications go: topic names (with region), or the composite that pages."""
    topics = preview.recorder.of_type("aws:sns/topic:Topic")

    def label(topic: RecordedResource) -> str:
        return f"{topic.inputs.get('name')}" + (f" ({topic.inputs['region']})" if topic.inputs.get("region") else "")

    actions = inputs.get("alarmActions") or []
    if actions:
        # By ARN when known; in a first preview (--unknowns) by the property dependency on the topic.
        named = [label(t) for t in topics if t.outputs.get("arn") in actions
                 or (alarm is not None and t.urn in alarm.property_dependencies.get("alarmActions", []))]
        ok = " and OK" if inputs.get("okActions") else ""
        return "SNS " + (", ".join(named) or ", ".join(_short(a) for a in actions)) + f" (ALARM{ok})"
    return f"via {composite_name}" if composite_name else "nobody"


def observability_lines(preview: StackPreview, children: list[RecordedResource]) -> list[str]:
    """A service's health alarm, its SLO alarms (threshold, where they page) and its dashboard."""
    composite = next(r for r in children if r.type == "aws:cloudwatch/compositeAlarm:CompositeAlarm")
    dashboard = next(r for r in children if r.type == "aws:cloudwatch/dashboard:Dashboard")
    name = composite.inputs["alarmName"]
    lines = [f"health alarm {name} -> {pages_to(preview, composite.inputs, alarm=composite)}; dashboard "
             f"{dashboard.inputs['dashboardName']}"]
    for alarm in sorted((r for r in children if r.type == "aws:cloudwatch/metricAlarm:MetricAlarm"),
                        key=lambda r: r.inputs["name"]):
        lines.append(f"  {alarm.inputs['name']}: {alarm_condition(alarm.inputs)} -> "
                     f"{pages_to(preview, alarm.inputs, name)}")
    return lines


def operations_lines(preview: StackPreview) -> list[str]:
    """Stack-level alarms that page directly, the alert topics and their subscribers, audit, sampling."""
    recorder = preview.recorder
    lines = []
    for topic in recorder.of_type("aws:sns/topic:Topic"):
        subscribers = [f"{s.inputs['protocol']} {s.inputs['endpoint']}"
                       for s in recorder.of_type("aws:sns/topicSubscription:TopicSubscription")
                       if s.parent == topic.parent]
        region = topic.inputs.get("region") or preview.settings.region
        lines.append(f"topic {topic.inputs['name']} ({region}, KMS-encrypted: "
                     f"{'yes' if topic.inputs.get('kmsMasterKeyId') else 'NO'}) -> "
                     f"{', '.join(subscribers) or 'no subscribers'}")
    service_composites = {r.parent for r in recorder.of_type("aws:cloudwatch/compositeAlarm:CompositeAlarm")
                          if recorder.by_urn(r.parent or "").type == SERVICE_OBSERVABILITY}
    for composite in recorder.of_type("aws:cloudwatch/compositeAlarm:CompositeAlarm"):
        if composite.parent not in service_composites:
            lines.append(f"{composite.inputs['alarmName']}: any service health alarm -> "
                         f"{pages_to(preview, composite.inputs, alarm=composite)}")
    for alarm in recorder.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
        if alarm.inputs.get("alarmActions") and recorder.by_urn(alarm.parent or "").type != SERVICE_OBSERVABILITY:
            lines.append(f"{alarm.inputs['name']}: {alarm_condition(alarm.inputs)} -> "
                         f"{pages_to(preview, alarm.inputs, alarm=alarm)}")
    for dashboard in recorder.of_type("aws:cloudwatch/dashboard:Dashboard"):
        if recorder.by_urn(dashboard.parent or "").type != SERVICE_OBSERVABILITY:
            lines.append(f"dashboard {dashboard.inputs['dashboardName']}")
    for rule in recorder.of_type("aws:xray/samplingRule:SamplingRule"):
        lines.append(f"X-Ray rule {rule.inputs['ruleName']}: {rule.inputs['fixedRate']:.0%} of requests, reservoir "
                     f"{rule.inputs['reservoirSize']:g}/s")
    for trail in recorder.of_type("aws:cloudtrail/trail:Trail"):
        lines.append(f"audit: CloudTrail {trail.inputs['name']} (multi-region, validated, KMS) + "
                     f"{len(recorder.of_type('aws:accessanalyzer/analyzer:Analyzer'))} Access Analyzers")
    return lines


def data_lines(preview: StackPreview, service: str) -> list[str]:
    """The service's data, the events it publishes and consumes, and its queues, read back from its
    ServiceData component (the published detail types come from the catalog)."""
    recorder = preview.recorder
    component = next((r for r in recorder.of_type("microservices:data:ServiceData")
                      if r.name == f"{preview.settings.environment}-{service}-data"), None)
    if component is None:
        return []
    below = _descendants(recorder.resources, component.urn)
    of = lambda typ: [r for r in below if r.type == typ]  # noqa: E731
    lines = []
    for table in of("aws:dynamodb/table:Table"):
        t = table.inputs
        replicas = ", ".join(r["regionName"] for r in t.get("replicas") or [])
        lines.append(f"data: DynamoDB {t['name']} on-demand, PITR, KMS"
                     + (f", stream {t['streamViewType']}" if t.get("streamEnabled") else "")
                     + (f", replica in {replicas}" if replicas else ""))
    spec = preview.settings.data_and_events[service]
    if spec.data is not None and spec.data.kind == "dynamodb" and not of("aws:dynamodb/table:Table"):
        lines.append(f"data: DynamoDB {preview.settings.environment}-{service}, the primary's global-table replica")
    for cluster in of("aws:rds/cluster:Cluster"):
        c = cluster.inputs
        scaling = c["serverlessv2ScalingConfiguration"]
        role = ("global database secondary" if "masterUsername" not in c and c.get("globalClusterIdentifier")
                else "global database primary" if c.get("globalClusterIdentifier") else "standalone")
        lines.append(f"data: Aurora PostgreSQL {c['clusterIdentifier']} Serverless v2 {scaling['minCapacity']:g}-"
                     f"{scaling['maxCapacity']:g} ACU ({role}), IAM auth, encrypted, "
                     f"deletion protection {'on' if c.get('deletionProtection') else 'off'}; 5432 from its tasks only")
    if spec.publishes:
        pipes = of("aws:pipes/pipe:Pipe")
        how = f"outbox pipe {pipes[0].inputs['desiredState']}" if pipes else "PutEvents"
        lines.append(f"publishes {', '.join(spec.publishes)} ({how})")
    queues = {q.inputs["name"]: q for q in of("aws:sqs/queue:Queue")}
    for rule in of("aws:cloudwatch/eventRule:EventRule"):
        pattern = json.loads(rule.inputs["eventPattern"])
        redrive = queues[rule.inputs["name"]].inputs.get("redrivePolicy")
        # The redrive policy names the DLQ's ARN, which a first preview does not know yet.
        receives = json.loads(redrive)["maxReceiveCount"] if isinstance(redrive, str) else "?"
        lines.append(f"consumes {', '.join(pattern['detail-type'])} from {pattern['source'][0]} via queue "
                     f"{rule.inputs['name']} (DLQ after {receives} receives)")
    for policy in of("aws:appautoscaling/policy:Policy"):
        configuration = policy.inputs["targetTrackingScalingPolicyConfiguration"]
        target = f"{configuration['targetValue']:g}" if isinstance(configuration, dict) else "?"
        lines.append(f"scales on backlog: {target} visible messages per running task")
    return lines


def _descendants(resources: list[RecordedResource], urn: str) -> list[RecordedResource]:
    children = [r for r in resources if r.parent == urn]
    return children + [d for c in children if not c.custom for d in _descendants(resources, c.urn)]


def failover_lines(preview: StackPreview) -> list[str]:
    settings = preview.settings
    failover = settings.config.failover
    lines = []
    if settings.role == "standby":
        lines.append(f"reads primary stack {failover.primary_stack} through one StackReference"
                     + (f" (resolved offline from {preview.primary_outputs_from})" if preview.primary_outputs_from else ""))
    records = [r for r in preview.recorder.of_type("aws:route53/record:Record") if r.inputs.get("failoverRoutingPolicies")]
    for record in records:
        policy = record.inputs["failoverRoutingPolicies"][0]["type"]
        target = _short(record.inputs["aliases"][0]["name"])
        lines.append(f"{policy} record {_short(record.inputs['name'])} -> {target}")
    if not records:
        # No failover record: DNS moves nothing; the plan below still moves capacity (and data, if replicated).
        lines.append("no DNS failover (no dns.domain configured): clients reach each region by its ALB name")
    else:
        estimate = settings.failover_time()
        verdict = "meets" if estimate.meets_objective else "misses"
        lines.append(f"RTO implied by the wiring: {estimate.summary()}; {verdict} the objective of "
                     f"{failover.rto_objective_minutes:g} min (target <= {TARGET_RTO_OBJECTIVE_MINUTES:g} min)")
    plans = preview.recorder.of_type("aws:arcregionswitch/plan:Plan")
    owner = (f"registered here: {', '.join(_short(p.inputs['name']) for p in plans)}" if plans
             else "registered by the standby stack of this pair")
    lines.append(f"Region switch plan ({owner}): RTO {settings.plan_time().summary()}")
    lines.append(f"RPO bound: {settings.rpo_bound().summary()}")
    if settings.role == "standby" and settings.global_database_services and failover.standby_database_readers == 0:
        lines.append(f"secondary databases {list(settings.global_database_services)} are headless "
                     "(failover.standbyDatabaseReaders 0): before executing the plan set it to 1 and `pulumi up` "
                     "this stack (Aurora promotes a reader, not a volume; the RTO above counts from then)")
    return lines


def _short(value: Any) -> str:
    plain = to_plain(value)
    text = plain if isinstance(plain, str) else json.dumps(plain)
    return text.replace(UNKNOWN, "[unknown]")


def preview_document(preview: StackPreview) -> dict[str, Any]:
    """The preview as one JSON document: what `--json` writes and what `--diff` compares."""
    return {
        "stack": preview.stack,
        "environment": preview.settings.environment,
        "region": preview.settings.region,
        "role": preview.settings.role,
        "counts": asdict(resource_counts(preview.recorder)),
        "resources": preview.recorder.to_json(),
        "outputs": to_plain(preview.outputs),
    }


def json_text(document: dict[str, Any]) -> str:
    """Byte-identical for the same inputs: records are sorted by URN and keys inside values are sorted
    (devkit/mocks.py), so a pull request's base and head previews can be compared (devkit/diff.py)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"

