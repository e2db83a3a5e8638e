"""Lambda handler: one region's part of a Region switch, as the plan's custom actions call it.

Shipped as the functions' code by components/failover/region_actions.py; runs on the Lambda Python runtime,
which provides boto3. ARC sends a custom action only execution metadata, so each function's action is
fixed by its configuration, never read from the event (docs/failover.md, "Region actions"):
  REGION_ACTION          start-outbox | stop-outbox | open-traffic | close-traffic
  PIPE_NAMES             JSON list of this region's outbox pipes (outbox actions)
  GATE_HEALTH_CHECK_ID   this region's traffic gate, a Route 53 calculated health check (traffic actions)
Outbox: a pipe already in (or moving to) the wanted state is left alone; the function raises until every
pipe has settled, so ARC retries the step (retryIntervalMinutes) and the next step starts only once the
region publishes (or has stopped publishing). Traffic: the gate is healthy when not inverted; closing
inverts it, so the region's failover record is unhealthy whatever its readiness check says.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from typing import Any

ENV_ACTION = "REGION_ACTION"
ENV_PIPES = "PIPE_NAMES"
ENV_GATE = "GATE_HEALTH_CHECK_ID"
OUTBOX_ACTIONS = ("start-outbox", "stop-outbox")
TRAFFIC_ACTIONS = ("open-traffic", "close-traffic")
ACTIONS = OUTBOX_ACTIONS + TRAFFIC_ACTIONS
# Pipe CurrentState values (EventBridge Pipes API, DescribePipe).
SETTLED = {"start-outbox": "RUNNING", "stop-outbox": "STOPPED"}
MOVING = {"start-outbox": "STARTING", "stop-outbox": "STOPPING"}

log = logging.getLogger()
log.setLevel(logging.INFO)


class NotSettled(RuntimeError):
    """Some pipes have not reached the wanted state yet; ARC retries the step."""


def read_pipes(raw: str) -> list[str]:
    pipes = json.loads(raw or "null")
    if not isinstance(pipes, list) or not pipes or not all(isinstance(p, str) and p for p in pipes):
        raise ValueError(f"{ENV_PIPES} must be a non-empty JSON list of pipe names, got {raw!r}")
    return sorted(set(pipes))


def switch_outbox(client: Any, action: str, pipes: Sequence[str]) -> dict[str, Any]:
    """Ask every pipe to reach the wanted state. Raises NotSettled (after asking every pipe) while any
    pipe is not there yet."""
    result: dict[str, list[str]] = {"requested": [], "settled": [], "moving": []}
    for name in pipes:
        state = client.describe_pipe(Name=name)["CurrentState"]
        if state == SETTLED[action]:
            result["settled"].append(name)
        elif state == MOVING[action]:
            result["moving"].append(name)
        else:
            (client.start_pipe if action == "start-outbox" else client.stop_pipe)(Name=name)
            result["requested"].append(name)
    log.info("%s: %s", action, json.dumps(result, sort_keys=True))
    pending = result["requested"] + result["moving"]
    if pending:
        raise NotSettled(f"pipes {pending} are not {SETTLED[action]} yet")
    return {"action": action, "pipes": result["settled"]}


def switch_traffic(client: Any, action: str, gate_id: str) -> dict[str, Any]:
    """Open (not inverted) or close (inverted) the region's gate; a gate already so is left alone."""
    inverted = action == "close-traffic"
    config = client.get_health_check(HealthCheckId=gate_id)["HealthCheck"]["HealthCheckConfig"]
    if config.get("Inverted", False) != inverted:
        client.update_health_check(HealthCheckId=gate_id, Inverted=inverted)
        log.info("%s: gate %s inverted=%s", action, gate_id, inverted)
    return {"action": action, "gate": gate_id, "inverted": inverted}


def handler(event: Any, context: Any, client: Any | None = None) -> dict[str, Any]:
    action = os.environ.get(ENV_ACTION, "")
    if action in OUTBOX_ACTIONS:
        pipes = read_pipes(os.environ.get(ENV_PIPES, ""))
        if client is None:
            import boto3  # provided by the Lambda runtime

            client = boto3.client("pipes")
        return switch_outbox(client, action, pipes)
    if action in TRAFFIC_ACTIONS:
        gate = os.environ.get(ENV_GATE, "")
        if not gate:
            raise ValueError(f"{ENV_GATE} is empty")
        if client is None:
            import boto3

            client = boto3.client("route53")
        return switch_traffic(client, action, gate)
    raise ValueError(f"{ENV_ACTION} must be one of {ACTIONS}, got {action!r}")
