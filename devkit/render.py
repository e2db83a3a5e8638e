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
        counts = groups[component]
        lines.append(f"  {component}  ({sum(counts.values())})")
        for typ, count in sorted(counts.items()):
            lines.append(f"    {count:>3}  {typ}")
    lines += ["", "Services:"] + [f"  {line}" for line in service_lines(preview)]
    lines += ["", "Failover:"] + [f"  {line}" for line in failover_lines(preview)]
    lines += ["", "Outputs:"]
    for key, value in preview.outputs.items():
        if value is None:
            continue
        shown = "[secret]" if key in settings.secret_keys else _short(value)
        lines.append(f"  {key}: {shown}")
    return "\n".join(lines)


def service_lines(preview: StackPreview) -> list[str]:
    """One block per MeshService, read back from what was registered (not from settings)."""
    recorder = preview.recorder
    by_urn = {r.urn: r for r in recorder.resources}
    lines = []
    for service in sorted(recorder.of_type("aws:ecs/service:Service"), key=lambda r: r.inputs["name"]):
        component = by_urn[service.parent]
        family = [r for r in recorder.resources if r.parent == component.urn]
        inputs = service.inputs
        size = preview.settings.task_size(inputs["name"])
        connect = inputs["serviceConnectConfiguration"]["services"][0]
        tls = "TLS via AWS Private CA" if connect.get("tls") else "no TLS"
        timeout = connect.get("timeout", {})
        deployment = inputs["deploymentConfiguration"]
        strategy = deployment["strategy"]
        step = (f"canary {deployment['canaryConfiguration']['canaryPercent']:g}% baked "
                f"{deployment['canaryConfiguration']['canaryBakeTimeInMinutes']} min"
                if strategy == "CANARY" else
                f"linear {deployment['linearConfiguration']['stepPercent']:g}% steps baked "
                f"{deployment['linearConfiguration']['stepBakeTimeInMinutes']} min")
        breaker = inputs.get("deploymentCircuitBreaker") or {}
        alarms = inputs.get("alarms") or {}
        target = next(r for r in family if r.type == "aws:appautoscaling/target:Target")
        policies = [r.inputs["targetTrackingScalingPolicyConfiguration"]["predefinedMetricSpecification"]
                    ["predefinedMetricType"] for r in family if r.type == "aws:appautoscaling/policy:Policy"]
        rule = next((r for r in family if r.type == "aws:lb/listenerRule:ListenerRule"), None)
        alias = connect["clientAlias"][0]
        proxy_port = connect.get("ingressPortOverride")
        lines.append(f"{inputs['name']}: {alias['dnsName']}:{alias['port']:g}"
                     + (f" (proxy on {proxy_port:g})" if proxy_port else "")
                     + f", {tls}, timeouts {timeout.get('perRequestTimeoutSeconds', 0):g} s/request "
                       f"{timeout.get('idleTimeoutSeconds', 0):g} s idle")
        lines.append(f"    task {size.task_cpu} CPU / {size.task_memory} MiB = app {size.app_cpu}/{size.app_memory} "
                     f"+ tracing {size.sidecar_cpu}/{size.sidecar_memory} + Service Connect proxy "
                     f"{size.proxy_cpu}/{size.proxy_memory}, rounded up to a Fargate size")
        lines.append(f"    deploy {strategy}: {step}, then bake {deployment['bakeTimeInMinutes']} min; "
                     f"circuit breaker {'on' if breaker.get('enable') else 'off (ECS: rolling updates only)'}; "
                     f"{len(alarms.get('alarmNames', []))} alarms, rollback {'on' if alarms.get('rollback') else 'OFF'}")
        lines.append(f"    autoscaling {target.inputs['minCapacity']:g}-{target.inputs['maxCapacity']:g} tasks on "
                     f"{', '.join(sorted(set(policies)))}")
        if rule:
            paths = rule.inputs["conditions"][0]["pathPattern"]["values"]
            lines.append(f"    ALB rule priority {rule.inputs['priority']:g}: {' '.join(paths)}")
    return lines


def failover_lines(preview: StackPreview) -> list[str]:
    settings = preview.settings
    failover = settings.config.failover
    lines = []
    if settings.role == "standby":
        lines.append(f"reads primary stack {failover.primary_stack} through one StackReference"
                     + (f" (resolved offline from the preview of '{preview.primary.stack}')" if preview.primary else ""))
    records = [r for r in preview.recorder.of_type("aws:route53/record:Record") if r.inputs.get("failoverRoutingPolicies")]
    for record in records:
        policy = record.inputs["failoverRoutingPolicies"][0]["type"]
        target = _short(record.inputs["aliases"][0]["name"])
        lines.append(f"{policy} record {_short(record.inputs['name'])} -> {target}")
    if not records:
        # No failover record: nothing fails over, so there is no recovery time to state.
        lines.append("no DNS failover (no dns.domain configured), so no RTO applies")
        return lines
    estimate = settings.failover_time()
    verdict = "meets" if estimate.meets_objective else "misses"
    lines.append(f"RTO implied by the wiring: {estimate.summary()}; {verdict} the objective of "
                 f"{failover.rto_objective_minutes:g} min (target <= {TARGET_RTO_OBJECTIVE_MINUTES:g} min)")
    return lines


def _short(value: Any) -> str:
    plain = to_plain(value)
    text = plain if isinstance(plain, str) else json.dumps(plain)
    return text.replace(UNKNOWN, "[unknown]")


def json_document(preview: StackPreview) -> dict[str, Any]:
    return {
        "stack": preview.stack,
        "environment": preview.settings.environment,
        "region": preview.settings.region,
        "role": preview.settings.role,
        "counts": asdict(resource_counts(preview.recorder)),
        "resources": preview.recorder.to_json(),
        "outputs": to_plain(preview.outputs),
    }

