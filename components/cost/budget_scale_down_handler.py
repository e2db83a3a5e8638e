"""Lambda handler: cap every listed ECS service's scalable target at its minimum (MaxCapacity = min).

Shipped as the function's code by components/cost/budget_scale_down.py; runs on the Lambda Python runtime,
which provides boto3. Invoked by SNS from the budget's dedicated scale-down topic: the topic receives
only the ACTUAL 100 % notification, so the budget's plain-text message needs no parsing. Records from
any other source or topic are ignored. Configuration comes from the environment, never credentials:
  CLUSTER_NAME      the ECS cluster
  SERVICE_MINIMUMS  JSON object {ECS service name: minimum task count}
  TOPIC_ARN         the scale-down topic
Application Auto Scaling scales a service in when its MaxCapacity drops below the running count.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from typing import Any

NAMESPACE = "ecs"
DIMENSION = "ecs:service:DesiredCount"
# The environment the function is configured with (components/cost/budget_scale_down.py sets it).
ENV_CLUSTER = "CLUSTER_NAME"
ENV_SERVICES = "SERVICE_MINIMUMS"
ENV_TOPIC = "TOPIC_ARN"

log = logging.getLogger()
log.setLevel(logging.INFO)


def from_topic(event: Mapping[str, Any], topic_arn: str) -> bool:
    """Whether the event carries at least one SNS notification from the scale-down topic."""
    return any(record.get("EventSource") == "aws:sns" and record.get("Sns", {}).get("TopicArn") == topic_arn
               for record in event.get("Records", []))


def read_minimums(raw: str) -> dict[str, int]:
    minimums = json.loads(raw)
    if not isinstance(minimums, dict) or not minimums or not all(
            isinstance(name, str) and isinstance(low, int) and low >= 0 for name, low in minimums.items()):
        raise ValueError(f"{ENV_SERVICES} must be a non-empty JSON object of service name to count, got {raw!r}")
    return minimums


def scale_down(client: Any, cluster: str, minimums: Mapping[str, int]) -> dict[str, Any]:
    """Set MaxCapacity to the minimum on each service's target; returns what changed, what was already
    capped and which targets are missing. Raises after trying every service if any is missing, so that
    Lambda records the failure (and retries the asynchronous invocation)."""
    resource_ids = {f"service/{cluster}/{name}": name for name in sorted(minimums)}
    found = client.describe_scalable_targets(
        ServiceNamespace=NAMESPACE, ScalableDimension=DIMENSION, ResourceIds=list(resource_ids))["ScalableTargets"]
    current = {target["ResourceId"]: target for target in found}
    result: dict[str, Any] = {"capped": {}, "alreadyCapped": [], "missing": []}
    for resource_id, name in resource_ids.items():
        target = current.get(resource_id)
        if target is None:
            result["missing"].append(name)
            continue
        low = minimums[name]
        if target["MaxCapacity"] == low and target["MinCapacity"] == low:
            result["alreadyCapped"].append(name)
            continue
        client.register_scalable_target(ServiceNamespace=NAMESPACE, ScalableDimension=DIMENSION,
                                        ResourceId=resource_id, MinCapacity=low, MaxCapacity=low)
        result["capped"][name] = {"maxCapacityBefore": target["MaxCapacity"], "maxCapacity": low}
    log.info("budget scale-down of cluster %s: %s", cluster, json.dumps(result, sort_keys=True))
    if result["missing"]:
        raise RuntimeError(f"no scalable target for {result['missing']} in cluster {cluster}")
    return result


def handler(event: Mapping[str, Any], context: Any, client: Any | None = None) -> dict[str, Any]:
    topic = os.environ[ENV_TOPIC]
    if not from_topic(event, topic):
        log.warning("ignored an event that is not a notification from %s", topic)
        return {"ignored": True}
    if client is None:
        import boto3  # provided by the Lambda runtime

        client = boto3.client("application-autoscaling")
    return scale_down(client, os.environ[ENV_CLUSTER], read_minimums(os.environ[ENV_SERVICES]))
