"""Calls to other services through Service Connect, with the platform's resilience policy (docs/mesh-service.md,
"Resilience: Service Connect and the client"). Standard library only.

* Retries only what is safe to repeat: idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE) or a request that
  carries an `Idempotency-Key` (the callee replays its first outcome). Retried on a retryable status (502, 503,
  504 by default), a refused or reset connection and a per-try timeout; never on a 4xx or another 5xx.
* Full-jitter backoff between tries, bounded below and above (25-250 ms by default).
* A circuit breaker per upstream (host:port): opens when more than the failure percentage of the calls in the
  window failed (with at least the minimum number of calls), fails fast while open, lets one probe through
  after the cool-down (half-open) and closes on its success.
* Timeouts nest: each try gets at most the per-try timeout, all tries together at most the overall timeout
  (`HTTP_CLIENT_TIMEOUT_SECONDS`), and never past the deadline of the request being served (the service's own
  request timeout, `SERVICE_REQUEST_TIMEOUT_SECONDS`, counted from its arrival).
* Forwards `X-Request-Id`, `traceparent` and `tracestate` of the request being served.

Every setting comes from an environment variable the platform sets from the catalog's `client` block
(components/mesh_service/client_policy.py); the defaults below are the same values.
"""

from __future__ import annotations

import http.client
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
FORWARDED_HEADERS = ("X-Request-Id", "traceparent", "tracestate")
IDEMPOTENCY_HEADER = "Idempotency-Key"


class CallError(Exception):
    """The call did not produce a response: the breaker is open, the deadline passed, or every try failed."""


class CircuitOpen(CallError):
    pass


class DeadlineExceeded(CallError):
    pass


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not an integer") from None
    if not low <= value <= high:
        raise ValueError(f"{name}={value} must be within {low}..{high}")
    return value


@dataclass(frozen=True)
class ClientSettings:
    max_attempts: int = 3
    backoff_min_ms: int = 25
    backoff_max_ms: int = 250
    per_try_timeout_ms: int = 1000
    overall_timeout_ms: int = 2000
    retry_statuses: frozenset[int] = frozenset({502, 503, 504})
    breaker_failure_percent: int = 50
    breaker_min_requests: int = 10
    breaker_window_seconds: int = 30
    breaker_cooldown_seconds: int = 30

    def __post_init__(self) -> None:
        if not 1 <= self.max_attempts <= 5:
            raise ValueError(f"max_attempts {self.max_attempts} must be within 1..5")
        if not 0 < self.backoff_min_ms <= self.backoff_max_ms:
            raise ValueError("backoff bounds must satisfy 0 < min <= max")
        if not 0 < self.per_try_timeout_ms <= self.overall_timeout_ms:
            raise ValueError("the per-try timeout must be positive and at most the overall timeout")
        if not self.retry_statuses <= set(range(500, 600)):
            raise ValueError(f"retry statuses {sorted(self.retry_statuses)} must be 5xx")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ClientSettings:
        statuses = env.get("CLIENT_RETRY_STATUSES")
        try:
            retry = frozenset(int(s) for s in statuses.split(",")) if statuses else cls.retry_statuses
        except ValueError:
            raise ValueError(f"CLIENT_RETRY_STATUSES={statuses!r} is not a comma-separated list of codes") from None
        return cls(
            max_attempts=_int(env, "CLIENT_MAX_ATTEMPTS", cls.max_attempts, 1, 5),
            backoff_min_ms=_int(env, "CLIENT_BACKOFF_MIN_MS", cls.backoff_min_ms, 1, 10_000),
            backoff_max_ms=_int(env, "CLIENT_BACKOFF_MAX_MS", cls.backoff_max_ms, 1, 10_000),
            per_try_timeout_ms=_int(env, "CLIENT_PER_TRY_TIMEOUT_MS", cls.per_try_timeout_ms, 1, 3_600_000),
            overall_timeout_ms=1000 * _int(env, "HTTP_CLIENT_TIMEOUT_SECONDS", cls.overall_timeout_ms // 1000, 1, 3600),
            retry_statuses=retry,
            breaker_failure_percent=_int(env, "CLIENT_BREAKER_FAILURE_PERCENT", cls.breaker_failure_percent, 1, 100),
            breaker_min_requests=_int(env, "CLIENT_BREAKER_MIN_REQUESTS", cls.breaker_min_requests, 1, 10_000),
            breaker_window_seconds=_int(env, "CLIENT_BREAKER_WINDOW_SECONDS", cls.breaker_window_seconds, 1, 3600),
            breaker_cooldown_seconds=_int(env, "CLIENT_BREAKER_COOLDOWN_SECONDS", cls.breaker_cooldown_seconds,
                                          1, 3600))


class Breaker:
    """One upstream's circuit: closed (calls counted), open (fail fast), half-open (one probe in flight)."""

    def __init__(self, settings: ClientSettings, clock: Callable[[], float]):
        self._settings = settings
        self._clock = clock
        self._outcomes: deque[tuple[float, bool]] = deque()
        self._opened_at: float | None = None
        self._probing = False
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        with self._lock:
            return self._state()

    def _state(self) -> str:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self._settings.breaker_cooldown_seconds:
            return "half-open"
        return "open"

    def admit(self) -> str | None:
        """How a try may go out now ("closed" or "probe"), or None; in half-open only one caller gets the probe."""
        with self._lock:
            state = self._state()
            if state == "closed":
                return "closed"
            if state == "half-open" and not self._probing:
                self._probing = True
                return "probe"
            return None

    def record(self, ok: bool, admitted: str) -> None:
        with self._lock:
            now = self._clock()
            if admitted == "probe":
                self._probing = False
                if ok:
                    self._opened_at = None
                    self._outcomes.clear()
                else:
                    self._opened_at = now
                return
            if self._opened_at is not None:
                return  # a try admitted before the circuit opened: its outcome changes nothing now
            self._outcomes.append((now, ok))
            while self._outcomes and self._outcomes[0][0] <= now - self._settings.breaker_window_seconds:
                self._outcomes.popleft()
            failures = sum(1 for _, good in self._outcomes if not good)
            total = len(self._outcomes)
            if total >= self._settings.breaker_min_requests and \
                    failures * 100 > self._settings.breaker_failure_percent * total:
                self._opened_at = now


@dataclass(frozen=True)
class Incoming:
    """What the request being served hands to the calls it makes: its deadline and the headers to forward."""

    deadline: float | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes
    attempts: int


class ServiceClient:
    def __init__(self, settings: ClientSettings, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, rng: random.Random | None = None):
        self.settings = settings
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._breakers: dict[str, Breaker] = {}
        self._lock = threading.Lock()

    def breaker(self, host: str, port: int) -> Breaker:
        key = f"{host}:{port}"
        with self._lock:
            if key not in self._breakers:
                self._breakers[key] = Breaker(self.settings, self._clock)
            return self._breakers[key]

    def backoff_seconds(self, retry: int) -> float:
        """Full jitter: uniform between the lower bound and an exponentially growing cap (at most the upper bound)."""
        low, high = self.settings.backoff_min_ms, self.settings.backoff_max_ms
        cap = min(high, low * 2 ** retry)
        return self._rng.uniform(low, cap) / 1000

    def retryable(self, method: str, headers: Mapping[str, str]) -> bool:
        has_key = any(k.lower() == IDEMPOTENCY_HEADER.lower() for k in headers)
        return method.upper() in IDEMPOTENT_METHODS or has_key

    def request(self, method: str, host: str, port: int, path: str, *, body: bytes | None = None,
                headers: Mapping[str, str] | None = None, incoming: Incoming | None = None,
                idempotency_key: str | None = None) -> Response:
        incoming = incoming or Incoming()
        sent = {name: incoming.headers[name] for name in FORWARDED_HEADERS if incoming.headers.get(name)}
        sent |= dict(headers or {})
        if idempotency_key:
            sent[IDEMPOTENCY_HEADER] = idempotency_key
        deadline = self._clock() + self.settings.overall_timeout_ms / 1000
        if incoming.deadline is not None:
            deadline = min(deadline, incoming.deadline)
        attempts = self.settings.max_attempts if self.retryable(method, sent) else 1
        breaker = self.breaker(host, port)
        last: str = "no try"
        for attempt in range(1, attempts + 1):
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise DeadlineExceeded(f"{method} {host}:{port}{path}: deadline passed after {attempt - 1} tries "
                                       f"({last})")
            admitted = breaker.admit()
            if admitted is None:
                raise CircuitOpen(f"{method} {host}:{port}{path}: circuit open")
            timeout = min(self.settings.per_try_timeout_ms / 1000, remaining)
            try:
                status, response_headers, data = self._try(method, host, port, path, body, sent, timeout)
            except (OSError, http.client.HTTPException) as error:
                breaker.record(False, admitted)
                last = f"{type(error).__name__}: {error}"
            else:
                breaker.record(status < 500, admitted)
                if status not in self.settings.retry_statuses or attempt == attempts:
                    return Response(status, response_headers, data, attempt)
                last = f"status {status}"
            if attempt < attempts:
                pause = self.backoff_seconds(attempt - 1)
                if self._clock() + pause >= deadline:
                    raise DeadlineExceeded(f"{method} {host}:{port}{path}: no time left for another try ({last})")
                self._sleep(pause)
        failure = DeadlineExceeded if self._clock() >= deadline else CallError
        raise failure(f"{method} {host}:{port}{path}: {attempts} tries failed ({last})")

    @staticmethod
    def _try(method: str, host: str, port: int, path: str, body: bytes | None, headers: Mapping[str, str],
             timeout: float) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=dict(headers))
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        except TimeoutError as error:
            raise TimeoutError(f"no answer within {timeout:.3f} s") from error
        finally:
            connection.close()
