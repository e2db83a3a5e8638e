"""The JSON log contract of every service image, and what the platform derives from it.

Every app writes one JSON object per line to stdout (the awslogs driver ships it to the service's log
group) with at least these fields; docs/operating.md ("Logs") is the contract for image authors.
Business metrics use the CloudWatch embedded metric format in the namespace `business_namespace()`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Field -> meaning, the contract's single source (the docs table is generated from it by scripts/).
LOG_FIELDS = {
    "timestamp": "RFC 3339 UTC time of the event, e.g. 2026-12-01T09:30:00.123Z",
    "level": "DEBUG, INFO, WARN or ERROR (upper case); LOG_LEVEL sets the lowest written",
    "message": "human-readable text, one event per line",
    "service": "the catalog name of the service (OTEL_SERVICE_NAME)",
    "trace_id": "W3C trace id (32 hex) of the active span, empty outside a trace",
    "span_id": "W3C span id (16 hex) of the active span, empty outside a trace",
    "request_id": "the request's id (X-Request-Id, or generated at the edge), for correlation without traces",
}
# Optional fields the saved queries read: the one "request completed" line each request writes.
REQUEST_LINE_FIELDS = {
    "http_method": "GET, POST, ...",
    "http_route": "the matched route template, e.g. /api/orders/{id} (never the raw path with ids)",
    "http_status": "the response status code",
    "duration_ms": "time from request received to response sent, in milliseconds",
}
# CloudWatch Logs JSON filter pattern syntax: `{ $.field = "value" }`.
ERROR_FILTER_PATTERN = '{ $.level = "ERROR" }'
ERROR_METRIC_NAME = "ErrorLogLines"
BUSINESS_NAMESPACE_PREFIX = "matbakh/microservices"
# Log-derived platform metrics, per environment: staging and prod share an account and a region, and a
# metric filter can take dimensions only from the log line itself (its `service` field), not from the stack.
PLATFORM_NAMESPACE_PREFIX = "matbakh/platform"
# PutMetricFilter: filterName 1-512 characters without ':' or '*'; metric names 1-255.
FILTER_NAME = re.compile(r"^[^:*]{1,512}$")
# PutQueryDefinition: name 1-255 characters; a '/' groups the saved queries in folders in the console.
QUERY_NAME_MAX = 255

ERRORS_BY_TRACE_QUERY = "\n".join([
    "fields @timestamp, service, trace_id, request_id, message",
    '| filter level = "ERROR"',
    "| stats count(*) as errors, earliest(@timestamp) as first_seen, latest(message) as last_message by trace_id",
    "| sort errors desc",
    "| limit 50",
])
# The app's own request lines, not the Service Connect proxy's access log: the proxy never sees the
# ALB's requests (they bypass it on the container port), and its JSON field names are not documented.
SLOWEST_REQUESTS_QUERY = "\n".join([
    "fields @timestamp, http_method, http_route, http_status, duration_ms, trace_id, request_id",
    "| filter ispresent(duration_ms)",
    "| sort duration_ms desc",
    "| limit 50",
])
RECENT_ERRORS_QUERY = "\n".join([
    "fields @timestamp, level, message, trace_id, request_id",
    '| filter level = "ERROR"',
    "| sort @timestamp desc",
    "| limit 20",
])


def business_namespace(service: str) -> str:
    """CloudWatch namespace of a service's business metrics (embedded metric format) and log metrics."""
    return f"{BUSINESS_NAMESPACE_PREFIX}/{service}"


@dataclass(frozen=True)
class ErrorLineMetric:
    """The metric the error metric filter writes: ERROR lines per service, in the environment's namespace."""

    namespace: str
    name: str
    service: str

    @property
    def dimensions(self) -> dict[str, str]:
        return {"service": self.service}


def error_line_metric(environment: str, service: str) -> ErrorLineMetric:
    return ErrorLineMetric(f"{PLATFORM_NAMESPACE_PREFIX}/{environment}", ERROR_METRIC_NAME, service)


@dataclass(frozen=True)
class SavedQuery:
    name: str
    query: str


def saved_queries(environment: str, service: str) -> tuple[SavedQuery, ...]:
    """The Logs Insights queries saved per service, in a folder per environment and service."""
    folder = f"{environment}/{service}"
    queries = (SavedQuery(f"{folder}/errors-by-trace-id", ERRORS_BY_TRACE_QUERY),
               SavedQuery(f"{folder}/slowest-requests", SLOWEST_REQUESTS_QUERY))
    for query in queries:
        if len(query.name) > QUERY_NAME_MAX:
            raise ValueError(f"saved query name {query.name!r} exceeds {QUERY_NAME_MAX} characters")
    return queries


def error_filter_name(environment: str, service: str) -> str:
    name = f"{environment}-{service}-error-log-lines"
    if not FILTER_NAME.fullmatch(name):
        raise ValueError(f"metric filter name {name!r} is not valid")
    return name
