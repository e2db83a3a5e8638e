"""How routed services are spread over the region's public load balancers (docs/scale.md).

An ALB holds at most 100 target groups (not adjustable) and 100 listener rules; a routed service takes two
target groups (blue/green) and one rule. So routed services are cut, in listener-rule-priority order, into
shards of at most `loadBalancers.maxRoutedServicesPerAlb`; each shard is one ALB with its own listeners and
its own DNS name. Ordering by the stated priority keeps every service on its ALB when a service with a
higher priority is added, which is how new services are added (platform/services.yaml).
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from components.mesh_service.args import ServiceDefinition
from foundation.settings.base import Model as _Model

# 45 routed services per ALB: 90 target groups of 100 (the headroom lets a service's pair be replaced
# create-before-delete), 45 listener rules of 100, 45 egress rules on the ALB's security group of 60.
DEFAULT_ROUTED_SERVICES_PER_ALB = 45


class LoadBalancers(_Model):
    max_routed_services_per_alb: int = Field(default=DEFAULT_ROUTED_SERVICES_PER_ALB, ge=1, le=100)


def routed_shards(services: Sequence[ServiceDefinition], per_alb: int) -> tuple[tuple[ServiceDefinition, ...], ...]:
    """The routed services of each ALB, in listener-rule-priority order. There is always a first ALB: it
    carries the stack's API name and answers 404 when no service is routed."""
    routed = sorted((s for s in services if s.routed), key=lambda s: s.listener_rule_priority or 0)
    shards = tuple(tuple(routed[start:start + per_alb]) for start in range(0, len(routed), per_alb))
    return shards or ((),)


def api_record_name(api_subdomain: str, domain: str, number: int) -> str:
    """The DNS name clients use for the services of the `number`th ALB (from 1): the first keeps the API
    name, the others are `<api>-<n>.<domain>`, which the certificate's `*.<domain>` already covers."""
    return f"{api_subdomain}.{domain}" if number == 1 else f"{api_subdomain}-{number}.{domain}"


def shard_health_check_path(shard: Sequence[ServiceDefinition]) -> str:
    """What the failover health check of an ALB other than the first requests: the health path of its
    first routed service, under that service's prefix (the ALB forwards the full path)."""
    first = next((s for s in shard if s.protocol == "http"), None)
    if first is None:
        # Route 53 health checks speak HTTP/1.1: an ALB of only http2/grpc services could not be checked.
        raise ValueError(f"the ALB of {[s.name for s in shard]} has no http service for its Route 53 health check")
    return f"{first.path_prefix}{first.health_path}"
