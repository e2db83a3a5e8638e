"""A service skeleton that meets the platform's image contract, on the Python standard library only.

* Serves its health check both where the container health check probes it (`HEALTH_PATH`, on
  127.0.0.1) and under its public prefix (`PATH_PREFIX` + `HEALTH_PATH`), which the ALB and the
  Route 53 failover check request: the ALB forwards the full path.
* Answers readiness at `/ready` and `PATH_PREFIX` + `/ready` (docs/failover.md, "readiness"): 200 only
  while `ready_check()` says the service can serve a write from this region, else 503. The Route 53
  failover check requests it. The skeleton has no data, so it is ready whenever it is alive; a service
  with a database passes a check that writes through `DATA_DATABASE_HOST` (the writer endpoint).
* Listens on `PORT` (the platform sets it to the catalog's port).
* Logs one JSON object per line on stdout (the awslogs driver ships each line as one event) in the
  platform's log contract (docs/operating.md, "Logs"): `timestamp`, `level` (DEBUG/INFO/WARN/ERROR, lines
  below `LOG_LEVEL` dropped), `message`, `service`, `trace_id`/`span_id` from the caller's W3C
  `traceparent`, `request_id` (`X-Request-Id`, else generated); request lines add `http_method`,
  `http_route`, `http_status` and `duration_ms`. The platform's error metric counts `level = "ERROR"`.
* Routes of the service (`make_server(routes=...)`): each gets a `Request` with its body and `incoming`, the
  deadline (`SERVICE_REQUEST_TIMEOUT_SECONDS` from arrival) and headers its outbound calls forward
  (app/client.py). A request with an `Idempotency-Key` to any other method than GET, HEAD or OPTIONS runs
  once per key; retries get the first outcome (app/idempotency.py).
* Stops on SIGTERM (ECS's stop signal) after finishing the requests in flight.
* Writes nothing at run time (read-only root file system; Python is told not to write bytecode).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import idempotency  # the app's own modules, beside this file in the image
from client import FORWARDED_HEADERS, Incoming

LEVELS = ("DEBUG", "INFO", "WARN", "ERROR")
READY_PATH = "/ready"


def always_ready() -> bool:
    return True


class JsonLog:
    """One JSON object per line; a lock keeps lines from interleaving between request threads."""

    def __init__(self, stream: TextIO, service: str, level: str = "INFO"):
        if level.upper() not in LEVELS:
            raise ValueError(f"LOG_LEVEL {level!r} must be one of {LEVELS}")
        self._stream = stream
        self._service = service
        self._lowest = LEVELS.index(level.upper())
        self._lock = threading.Lock()

    def write(self, level: str, message: str, **fields: Any) -> None:
        if LEVELS.index(level) < self._lowest:
            return
        record = {"timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"), "level": level,
                  "service": self._service, "message": message, **fields}
        line = json.dumps(record, separators=(",", ":"))
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()


def trace_id(traceparent: str | None) -> str | None:
    """The trace id of a W3C `traceparent` header (`00-<32 hex>-<16 hex>-<2 hex>`), else None."""
    parts = (traceparent or "").split("-")
    if len(parts) == 4 and len(parts[1]) == 32 and all(c in "0123456789abcdef" for c in parts[1]):
        return parts[1] if parts[1] != "0" * 32 else None
    return None


def span_id(traceparent: str | None) -> str | None:
    """The parent span id of a valid W3C `traceparent` header, else None."""
    parts = (traceparent or "").split("-")
    if trace_id(traceparent) and len(parts[2]) == 16 and all(c in "0123456789abcdef" for c in parts[2]):
        return parts[2] if parts[2] != "0" * 16 else None
    return None


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes
    # Hand it to ServiceClient.request: the calls this request makes end before it must, and carry its ids.
    incoming: Incoming


Route = Callable[[Request], idempotency.Answer]
MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ServerOptions:
    routes: Mapping[tuple[str, str], Route]
    # The service's own request timeout: the Service Connect per-request timeout the platform injects.
    request_timeout_seconds: float
    idempotency_store: idempotency.Store
    idempotency_ttl_seconds: int = idempotency.DEFAULT_TTL_SECONDS


def make_handler(log: JsonLog, path_prefix: str, health_path: str, options: ServerOptions | None = None,
                 ready_check: Callable[[], bool] = always_ready) -> type[BaseHTTPRequestHandler]:
    health_paths = {health_path, f"{path_prefix.rstrip('/')}{health_path}"}
    ready_paths = {READY_PATH, f"{path_prefix.rstrip('/')}{READY_PATH}"}
    settings = options or ServerOptions({}, 3.0, idempotency.MemoryStore())

    def ready() -> bool:
        try:
            return bool(ready_check())
        except Exception:  # a failing probe means not ready, never a 500
            return False

    class Handler(BaseHTTPRequestHandler):
        server_version = "service"
        sys_version = ""

        def _answer(self, started: float, path: str) -> idempotency.Answer:
            json_type = {"Content-Type": "application/json"}
            if self.command in ("GET", "HEAD") and path in health_paths:
                return idempotency.Answer(200, json.dumps({"status": "ok"}).encode(), json_type)
            if self.command in ("GET", "HEAD") and path in ready_paths:
                status, state = (200, "ready") if ready() else (503, "not ready")
                return idempotency.Answer(status, json.dumps({"status": state}).encode(), json_type)
            route = settings.routes.get((self.command, path))
            if route is None:
                return idempotency.Answer(404, json.dumps({"error": "not found", "path": path}).encode(), json_type)
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                return idempotency.Answer(400, b'{"error": "bad Content-Length"}', json_type)
            if length > MAX_BODY_BYTES:
                return idempotency.Answer(413, b'{"error": "body too large"}', json_type)
            body = self.rfile.read(length) if length > 0 else b""
            forwarded = {name: self.headers[name] for name in FORWARDED_HEADERS if self.headers.get(name)}
            request = Request(self.command, path, dict(self.headers.items()), body,
                              Incoming(started + settings.request_timeout_seconds, forwarded))
            key = self.headers.get(idempotency.HEADER)
            if key is None or self.command in ("GET", "HEAD", "OPTIONS"):
                return route(request)
            return idempotency.handle(settings.idempotency_store, key, self.command, path, body,
                                      lambda: route(request), settings.idempotency_ttl_seconds)

        def do_GET(self) -> None:
            started = time.monotonic()
            path = self.path.split("?", 1)[0]
            try:
                answer = self._answer(started, path)
            except Exception as error:  # one failing request must not take the server down; log it as ERROR
                log.write("ERROR", f"unhandled {type(error).__name__}: {error}")
                answer = idempotency.Answer(500, b'{"error": "internal error"}', {"Content-Type": "application/json"})
            status, payload = answer.status, answer.body
            traceparent = self.headers.get("traceparent")
            # The skeleton has no route templates: its path is its route (a real app logs the template).
            fields = {"http_method": self.command, "http_route": path, "http_status": status,
                      "duration_ms": round((time.monotonic() - started) * 1000, 3),
                      "trace_id": trace_id(traceparent) or "", "span_id": span_id(traceparent) or "",
                      "request_id": self.headers.get("X-Request-Id") or uuid.uuid4().hex}
            # Logged before the response leaves, so that a client that has its answer finds the line.
            log.write("ERROR" if status >= 500 else "INFO", "request", **fields)
            self.send_response(status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            """The access log is the JSON line do_GET writes, with the duration and trace id."""

        def log_message(self, format: str, *args: Any) -> None:
            # The standard library's other messages (malformed requests, errors) as JSON, not plain stderr.
            log.write("WARN", format % args)

    return Handler


def make_server(address: tuple[str, int], *, log: JsonLog, path_prefix: str = "",
                health_path: str = "/health", options: ServerOptions | None = None,
                ready_check: Callable[[], bool] = always_ready) -> ThreadingHTTPServer:
    if not health_path.startswith("/") or (path_prefix and not path_prefix.startswith("/")):
        raise ValueError(f"HEALTH_PATH ({health_path!r}) and PATH_PREFIX ({path_prefix!r}) must start with '/'")
    server = ThreadingHTTPServer(address, make_handler(log, path_prefix, health_path, options, ready_check))
    server.daemon_threads = False  # let requests in flight finish on shutdown
    return server


def main() -> int:
    service = os.environ.get("SERVICE_NAME", "service")
    try:
        # LOG_LEVEL is the stack's (logs.level), delivered as the service's plain config.
        log = JsonLog(sys.stdout, service, os.environ.get("LOG_LEVEL", "INFO"))
    except ValueError as error:
        JsonLog(sys.stdout, service).write("ERROR", f"cannot start: {error}")
        return 2
    try:
        port = int(os.environ.get("PORT", "8080"))
        # Replace the in-memory store with DynamoDbStore on the service's table (DATA_TABLE_NAME) before
        # running more than one task: a retry may reach another task.
        options = ServerOptions(routes={}, idempotency_store=idempotency.MemoryStore(),
                                request_timeout_seconds=float(os.environ.get("SERVICE_REQUEST_TIMEOUT_SECONDS", "3")),
                                idempotency_ttl_seconds=int(os.environ.get("IDEMPOTENCY_TTL_SECONDS",
                                                                           str(idempotency.DEFAULT_TTL_SECONDS))))
        server = make_server(("0.0.0.0", port), log=log, path_prefix=os.environ.get("PATH_PREFIX", ""),
                             health_path=os.environ.get("HEALTH_PATH", "/health"), options=options)
    except (ValueError, OSError) as error:
        log.write("ERROR", f"cannot start: {error}")
        return 2

    def stop(signum: int, _frame: Any) -> None:
        log.write("INFO", "stopping", signal=signal.Signals(signum).name)
        threading.Thread(target=server.shutdown).start()  # shutdown() blocks until serve_forever returns

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.write("INFO", "listening", port=port)
    server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
