"""templates/service/app/client.py and idempotency.py against a local server that fails, stalls and recovers:
retries only what is safe, bounded full-jitter backoff, a breaker per upstream, nested timeouts, forwarded ids,
and keyed requests that run once."""

from __future__ import annotations

import io
import json
import random
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

APP = Path(__file__).resolve().parent.parent / "templates" / "service" / "app"
sys.path.insert(0, str(APP))
import client as service_client  # noqa: E402
import idempotency  # noqa: E402
import server as service_server  # noqa: E402

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


class Upstream:
    """A callee that answers from a script: an int is a status, ("stall", s) holds the answer s seconds,
    and the last entry repeats. It records every request's method, path and headers."""

    def __init__(self, script: list[object]):
        self.script = list(script)
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self.release = threading.Event()  # ends every stall at teardown
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                with lock:
                    upstream.seen.append((self.command, self.path, dict(self.headers.items())))
                    step = upstream.script.pop(0) if len(upstream.script) > 1 else upstream.script[0]
                if isinstance(step, tuple):
                    upstream.release.wait(step[1])
                    step = 200
                body = json.dumps({"status": step}).encode()
                try:
                    self.send_response(int(step))
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up on this try

            do_GET = do_POST = do_PUT = _serve

            def log_message(self, format: str, *args: object) -> None:
                pass

        lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def upstream() -> Iterator[Callable[[list[object]], Upstream]]:
    started: list[Upstream] = []

    def start(script: list[object]) -> Upstream:
        started.append(Upstream(script))
        return started[-1]

    yield start
    for one in started:
        one.close()


class Sleeps:
    def __init__(self) -> None:
        self.pauses: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.pauses.append(seconds)


def make_client(**settings: Any) -> tuple[service_client.ServiceClient, Sleeps]:
    sleeps = Sleeps()
    return service_client.ServiceClient(service_client.ClientSettings(**settings), sleep=sleeps,
                                        rng=random.Random(7)), sleeps


def test_a_get_is_retried_on_gateway_errors_until_the_upstream_recovers(upstream):
    callee = upstream([503, 502, 200])
    client, sleeps = make_client()
    response = client.request("GET", "127.0.0.1", callee.port, "/api/auth/token")
    assert (response.status, response.attempts, len(callee.seen)) == (200, 3, 3)
    assert len(sleeps.pauses) == 2 and all(0.025 <= p <= 0.25 for p in sleeps.pauses)


def test_the_seeds_budget_ends_retries_and_returns_the_last_gateway_error(upstream):
    callee = upstream([503])
    client, _ = make_client(max_attempts=4)
    response = client.request("GET", "127.0.0.1", callee.port, "/x")
    assert (response.status, response.attempts, len(callee.seen)) == (503, 4, 4)


def test_a_post_is_tried_once_unless_it_carries_an_idempotency_key(upstream):
    callee = upstream([503, 200])
    client, _ = make_client()
    assert client.request("POST", "127.0.0.1", callee.port, "/pay", body=b"{}").status == 503
    assert len(callee.seen) == 1
    response = client.request("POST", "127.0.0.1", callee.port, "/pay", body=b"{}", idempotency_key="k-1")
    assert (response.status, response.attempts) == (200, 1)  # the script had moved on to 200
    callee.script = [503, 200]
    response = client.request("POST", "127.0.0.1", callee.port, "/pay", body=b"{}", idempotency_key="k-2")
    assert (response.status, response.attempts) == (200, 2)
    assert callee.seen[-1][2]["Idempotency-Key"] == "k-2"


@pytest.mark.parametrize("status", [500, 501, 404, 429])
def test_statuses_outside_the_retry_list_are_not_retried(upstream, status):
    callee = upstream([status, 200])
    client, _ = make_client()
    assert client.request("GET", "127.0.0.1", callee.port, "/x").status == status
    assert len(callee.seen) == 1


def test_a_refused_connection_is_retried_with_bounded_backoff_and_then_reported():
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as closed:
        port = closed.server_address[1]  # bound, then closed at the end of the block: nothing listens there
    client, sleeps = make_client(max_attempts=3)
    with pytest.raises(service_client.CallError, match=r"3 tries failed.*ConnectionRefusedError"):
        client.request("GET", "127.0.0.1", port, "/x")
    assert len(sleeps.pauses) == 2 and all(0.025 <= p <= 0.25 for p in sleeps.pauses)


def test_full_jitter_backoff_stays_within_25_and_250_ms_and_its_cap_grows_per_retry():
    client, _ = make_client()
    samples = {retry: [client.backoff_seconds(retry) for _ in range(300)] for retry in range(6)}
    assert all(0.025 <= s <= 0.25 for values in samples.values() for s in values)
    assert max(samples[0]) == pytest.approx(0.025)  # first cap = lower bound
    assert max(samples[1]) <= 0.05 and max(samples[2]) <= 0.1 and max(samples[3]) <= 0.2
    assert max(samples[5]) > 0.2  # the cap reached the upper bound
    assert len({round(s, 4) for s in samples[4]}) > 100  # jittered, not a fixed ladder


def test_a_stalled_try_is_cut_at_the_per_try_timeout_and_the_next_try_succeeds(upstream):
    callee = upstream([("stall", 5), 200])
    client, _ = make_client(per_try_timeout_ms=150, overall_timeout_ms=2000)
    started = time.monotonic()
    response = client.request("GET", "127.0.0.1", callee.port, "/x")
    assert (response.status, response.attempts) == (200, 2)
    assert time.monotonic() - started < 1.0


def test_all_tries_together_end_at_the_overall_timeout(upstream):
    callee = upstream([("stall", 5)])
    client, _ = make_client(per_try_timeout_ms=400, overall_timeout_ms=1000, max_attempts=5)
    started = time.monotonic()
    with pytest.raises(service_client.DeadlineExceeded):
        client.request("GET", "127.0.0.1", callee.port, "/x")
    assert 0.95 < time.monotonic() - started < 1.5
    assert len(callee.seen) == 3  # 400 + 400 + the 200 ms left; no fourth try past the deadline


def test_calls_end_before_the_deadline_of_the_request_being_served(upstream):
    callee = upstream([("stall", 5)])
    client, _ = make_client(per_try_timeout_ms=2000, overall_timeout_ms=2000)
    started = time.monotonic()
    incoming = service_client.Incoming(deadline=started + 0.2)
    with pytest.raises(service_client.CallError):
        client.request("GET", "127.0.0.1", callee.port, "/x", incoming=incoming)
    assert time.monotonic() - started < 0.6


def test_request_id_and_trace_context_of_the_request_being_served_are_forwarded(upstream):
    callee = upstream([200])
    client, _ = make_client()
    incoming = service_client.Incoming(headers={"X-Request-Id": "r-42", "traceparent": TRACEPARENT,
                                                "tracestate": "vendor=abc", "Authorization": "Bearer secret"})
    client.request("GET", "127.0.0.1", callee.port, "/x", incoming=incoming)
    headers = callee.seen[0][2]
    assert (headers["X-Request-Id"], headers["traceparent"], headers["tracestate"]) == ("r-42", TRACEPARENT,
                                                                                       "vendor=abc")
    assert "Authorization" not in headers  # only the ids travel; credentials are the caller's to choose


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_breaker_opens_on_failures_fails_fast_probes_once_after_the_cool_down_and_closes(upstream):
    callee = upstream([503])
    clock = FakeClock()
    settings = service_client.ClientSettings(max_attempts=1, breaker_min_requests=4, breaker_failure_percent=50,
                                             breaker_window_seconds=30, breaker_cooldown_seconds=10)
    client = service_client.ServiceClient(settings, clock=clock, sleep=lambda s: None)
    breaker = client.breaker("127.0.0.1", callee.port)
    for _ in range(4):
        assert client.request("GET", "127.0.0.1", callee.port, "/x").status == 503
    assert breaker.state == "open"
    with pytest.raises(service_client.CircuitOpen):
        client.request("GET", "127.0.0.1", callee.port, "/x")
    assert len(callee.seen) == 4  # failing fast: the open circuit sent nothing
    clock.now += 10
    assert breaker.state == "half-open"
    assert client.request("GET", "127.0.0.1", callee.port, "/x").status == 503  # the probe fails
    assert breaker.state == "open" and len(callee.seen) == 5
    clock.now += 10
    callee.script = [200]
    assert breaker.admit() == "probe" and breaker.admit() is None  # one probe at a time
    breaker.record(True, "probe")
    assert breaker.state == "closed"
    assert client.request("GET", "127.0.0.1", callee.port, "/x").status == 200


def test_the_breaker_stays_closed_below_the_failure_share_or_the_minimum_calls():
    clock = FakeClock()
    breaker = service_client.Breaker(service_client.ClientSettings(breaker_min_requests=4), clock)
    for ok in (False, False, False):
        breaker.record(ok, "closed")
    assert breaker.state == "closed"  # 3 failed calls, fewer than the minimum of 4
    breaker.record(True, "closed")
    assert breaker.state == "open"  # 3 of 4 failed
    breaker2 = service_client.Breaker(service_client.ClientSettings(breaker_min_requests=4), clock)
    for ok in (False, True, False, True):
        breaker2.record(ok, "closed")
    assert breaker2.state == "closed"  # exactly 50 % is not more than 50 %
    clock.now += 31  # outcomes older than the window no longer count
    for ok in (False, False, False):
        breaker2.record(ok, "closed")
    assert breaker2.state == "closed"


def test_breakers_are_per_upstream():
    client, _ = make_client()
    assert client.breaker("auth.internal", 8080) is client.breaker("auth.internal", 8080)
    assert client.breaker("auth.internal", 8080) is not client.breaker("persona.internal", 8080)


def test_settings_come_from_the_injected_environment_and_bad_values_name_the_variable():
    env = {"CLIENT_MAX_ATTEMPTS": "5", "CLIENT_BACKOFF_MIN_MS": "30", "CLIENT_BACKOFF_MAX_MS": "200",
           "CLIENT_PER_TRY_TIMEOUT_MS": "700", "HTTP_CLIENT_TIMEOUT_SECONDS": "2", "CLIENT_RETRY_STATUSES": "503,504",
           "CLIENT_BREAKER_FAILURE_PERCENT": "60", "CLIENT_BREAKER_MIN_REQUESTS": "20",
           "CLIENT_BREAKER_WINDOW_SECONDS": "10", "CLIENT_BREAKER_COOLDOWN_SECONDS": "15"}
    settings = service_client.ClientSettings.from_env(env)
    assert (settings.max_attempts, settings.backoff_min_ms, settings.per_try_timeout_ms, settings.overall_timeout_ms,
            settings.retry_statuses, settings.breaker_cooldown_seconds) == (5, 30, 700, 2000, {503, 504}, 15)
    assert service_client.ClientSettings.from_env({}) == service_client.ClientSettings()
    with pytest.raises(ValueError, match=r"CLIENT_MAX_ATTEMPTS=9 must be within 1\.\.5"):
        service_client.ClientSettings.from_env({"CLIENT_MAX_ATTEMPTS": "9"})
    with pytest.raises(ValueError, match="per-try timeout"):
        service_client.ClientSettings.from_env({"CLIENT_PER_TRY_TIMEOUT_MS": "5000"})


# --- idempotency on the server side -----------------------------------------------------------------------


@pytest.fixture
def keyed_service() -> Iterator[tuple[str, list[bytes], threading.Event, threading.Event]]:
    runs: list[bytes] = []
    gate, entered = threading.Event(), threading.Event()
    gate.set()

    def create(request: service_server.Request) -> idempotency.Answer:
        entered.set()
        gate.wait(5)
        runs.append(request.body)
        if request.body == b"fail":
            return idempotency.Answer(503, b'{"error": "busy"}', {"Content-Type": "application/json"})
        return idempotency.Answer(201, json.dumps({"created": len(runs)}).encode(), {"Content-Type": "application/json"})

    options = service_server.ServerOptions(routes={("POST", "/api/example/orders"): create},
                                           request_timeout_seconds=3, idempotency_store=idempotency.MemoryStore())
    server = service_server.make_server(("127.0.0.1", 0), log=service_server.JsonLog(io.StringIO(), "example"),
                                        path_prefix="/api/example", options=options)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/example/orders", runs, gate, entered
    gate.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _post(url: str, body: bytes, key: str | None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Idempotency-Key": key} if key else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()


def test_a_keyed_request_runs_once_and_its_retry_gets_the_first_outcome(keyed_service):
    url, runs, _, _ = keyed_service
    first = _post(url, b'{"item": 1}', "order-1")
    again = _post(url, b'{"item": 1}', "order-1")
    assert first[0] == again[0] == 201 and first[2] == again[2] == b'{"created": 1}'
    assert again[1]["Idempotency-Replayed"] == "true" and "Idempotency-Replayed" not in first[1]
    assert runs == [b'{"item": 1}']
    assert _post(url, b'{"item": 1}', None)[0] == 201 and len(runs) == 2  # no key: runs every time


def test_reusing_a_key_for_a_different_body_is_refused_with_422(keyed_service):
    url, runs, _, _ = keyed_service
    assert _post(url, b'{"item": 1}', "order-2")[0] == 201
    status, _, body = _post(url, b'{"item": 2}', "order-2")
    assert status == 422 and b"different request" in body and len(runs) == 1


def test_a_5xx_outcome_is_not_stored_so_the_retry_runs_again(keyed_service):
    url, runs, _, _ = keyed_service
    assert _post(url, b"fail", "order-3")[0] == 503
    assert _post(url, b"fail", "order-3")[0] == 503
    assert runs == [b"fail", b"fail"]


def test_a_retry_while_the_first_request_runs_gets_409_with_retry_after(keyed_service):
    url, runs, gate, entered = keyed_service
    gate.clear()
    first = threading.Thread(target=_post, args=(url, b'{"item": 3}', "order-4"))
    first.start()
    assert entered.wait(5)  # the first request holds the key and is running
    status, headers, _ = _post(url, b'{"item": 3}', "order-4")
    gate.set()
    first.join(5)
    assert status == 409 and headers["Retry-After"] == "1" and len(runs) == 1


def test_a_stored_outcome_expires_after_its_ttl():
    clock = FakeClock()
    store = idempotency.MemoryStore(clock)
    assert store.claim("k", "h1", 60) is None
    store.complete("k", idempotency.Outcome("h1", 201, b"{}"), 60)
    assert store.claim("k", "h2", 60) == idempotency.Outcome("h1", 201, b"{}")
    clock.now += 61
    assert store.claim("k", "h2", 60) is None


class ConditionalCheckFailedException(Exception):
    pass


class FakeTable:
    """put_item honouring `attribute_not_exists(#pk) OR #ttl < :now`, get_item and delete_item, by key."""

    def __init__(self, partition_key: str, sort_key: str | None) -> None:
        self.keys = (partition_key, sort_key)
        self.items: dict[tuple[str, str | None], dict] = {}

    def _id(self, item: dict) -> tuple[str, str | None]:
        pk, sk = self.keys
        return item[pk]["S"], item[sk]["S"] if sk else None

    def put_item(self, **kwargs: object) -> dict:
        item = kwargs["Item"]
        held = self.items.get(self._id(item))
        if "ConditionExpression" in kwargs and held is not None:
            names, values = kwargs["ExpressionAttributeNames"], kwargs["ExpressionAttributeValues"]
            if not int(held[names["#ttl"]]["N"]) < int(values[":now"]["N"]):
                raise ConditionalCheckFailedException()
        self.items[self._id(item)] = item
        return {}

    def get_item(self, **kwargs: object) -> dict:
        held = self.items.get(self._id(kwargs["Key"]))
        return {"Item": held} if held else {}

    def delete_item(self, **kwargs: object) -> dict:
        self.items.pop(self._id(kwargs["Key"]), None)
        return {}


def test_the_dynamodb_store_keys_items_apart_from_entities_and_outbox_items_and_sets_the_ttl():
    # vc-start's table (platform/services.yaml): pk/sk strings, TTL attribute expiresAt.
    clock = FakeClock()
    table = FakeTable("pk", "sk")
    store = idempotency.DynamoDbStore(table, "staging-vc-start", partition_key="pk", sort_key="sk",
                                      ttl_attribute="expiresAt", clock=clock)
    assert store.claim("abc", "h1", 3600) is None
    store.complete("abc", idempotency.Outcome("h1", 201, b'{"id": 1}'), 3600)
    [(key, item)] = table.items.items()
    assert key == ("idempotency#abc", "idempotency") and item["kind"] == {"S": "idempotency"}
    assert item["expiresAt"] == {"N": str(int(clock.now) + 3600)}
    assert store.claim("abc", "h2", 3600) == idempotency.Outcome("h1", 201, b'{"id": 1}', "application/json")
    clock.now += 3601  # expired, TTL has not deleted it yet: a new request may claim the key
    assert store.claim("abc", "h2", 3600) is None
    store.release("abc")
    assert table.items == {}


def test_a_body_too_large_or_a_bad_length_is_refused_before_the_route_runs(keyed_service):
    url, runs, _, _ = keyed_service
    host, port = url.split("/")[2].split(":")
    import http.client
    for length, expected in (("2000000", 413), ("ten", 400)):
        connection = http.client.HTTPConnection(host, int(port), timeout=5)
        connection.putrequest("POST", "/api/example/orders")
        connection.putheader("Content-Length", length)
        connection.endheaders()
        assert connection.getresponse().status == expected
        connection.close()
    assert runs == []
