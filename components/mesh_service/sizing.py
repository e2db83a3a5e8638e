"""Right-sizing of Fargate tasks that run behind ECS Service Connect.

Pure functions: no Pulumi, no AWS calls. The preview prints `TaskSize.breakdown()` so a reviewer can
see where every CPU unit and MiB of a task goes.

Why the proxy is counted explicitly: the Service Connect proxy is a sidecar ECS injects at task start.
It is not in the task definition and ECS does not enlarge the task for it; it runs on whatever part
of the task size no container claims. AWS recommends "an additional 256 CPU units and at least 64 MiB
of memory" for it (512 CPU units above 500 requests/s at peak).
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect-concepts-deploy.html
"""

from __future__ import annotations

from dataclasses import dataclass

# Valid Fargate Linux task sizes: cpu units -> allowed memory (MiB).
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-cpu-memory-error.html
# The 8192 and 16384 rows need Linux platform version 1.4.0 or later, which Service Connect needs
# anyway, so they are always available to a Service Connect task.
FARGATE_LINUX_MEMORY_BY_CPU: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: (1024, 2048, 3072, 4096),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}

FARGATE_LINUX_SIZES: tuple[tuple[int, int], ...] = tuple(
    (cpu, memory) for cpu, memories in FARGATE_LINUX_MEMORY_BY_CPU.items() for memory in memories
)

# Service Connect proxy reservation. AWS asks for 256 CPU units and at least 64 MiB; the platform's
# seed estimate was "~0.25 vCPU / 256 MB proxy overhead", so 256 MiB is reserved: it is within AWS's
# "at least", keeps the seed figure visible in every computed size, and leaves the proxy room for the
# connection pools and access-log buffering of a busy service.
SERVICE_CONNECT_PROXY_CPU = 256
SERVICE_CONNECT_PROXY_MEMORY_MIB = 256

# ADOT collector sidecar (traces only, to X-Ray). Small on purpose: it batches and forwards spans.
TRACING_SIDECAR_CPU = 128
TRACING_SIDECAR_MEMORY_MIB = 256

# Docker 20.10+ reserves at least 6 MiB per container; any container limit below that is refused.
MIN_CONTAINER_MEMORY_MIB = 6


class SizingError(ValueError):
    """No valid Fargate size can hold what a service asked for."""


@dataclass(frozen=True)
class TaskSize:
    """The chosen Fargate size of one service's task and how it is split between containers."""

    service: str
    app_cpu: int
    app_memory: int
    sidecar_cpu: int
    sidecar_memory: int
    proxy_cpu: int
    proxy_memory: int
    task_cpu: int
    task_memory: int

    @property
    def requested_cpu(self) -> int:
        return self.app_cpu + self.sidecar_cpu + self.proxy_cpu

    @property
    def requested_memory(self) -> int:
        return self.app_memory + self.sidecar_memory + self.proxy_memory

    @property
    def app_cpu_limit(self) -> int:
        """CPU units given to the app container: what the request asked for plus the rounding slack.

        The proxy's share is never handed to a container, so the container total stays below the task
        value, as AWS requires.
        """
        return self.task_cpu - self.sidecar_cpu - self.proxy_cpu

    @property
    def app_memory_limit(self) -> int:
        """Hard memory limit of the app container: the task memory minus sidecar and proxy reservations.

        AWS: with Service Connect "you must set the task memory limit to a number greater than the sum
        of the container memory limits"; the proxy reservation is that difference.
        """
        return self.task_memory - self.sidecar_memory - self.proxy_memory

    def breakdown(self) -> dict[str, object]:
        return {
            "service": self.service,
            "app": {"cpu": self.app_cpu, "memory": self.app_memory},
            "tracing_sidecar": {"cpu": self.sidecar_cpu, "memory": self.sidecar_memory},
            "service_connect_proxy": {"cpu": self.proxy_cpu, "memory": self.proxy_memory},
            "requested_total": {"cpu": self.requested_cpu, "memory": self.requested_memory},
            "fargate_size": {"cpu": self.task_cpu, "memory": self.task_memory},
            "app_container_limits": {"cpu": self.app_cpu_limit, "memory": self.app_memory_limit},
        }


def smallest_fargate_size(cpu: int, memory: int) -> tuple[int, int] | None:
    """The smallest valid Fargate Linux pair with at least `cpu` units and `memory` MiB.

    Both the CPU rows and their memory ranges grow together in AWS's table, so the first row that can
    hold the request, at its first sufficient memory value, is no larger than any other covering pair
    in either dimension (the tests check this against the whole table).
    """
    for task_cpu, memories in FARGATE_LINUX_MEMORY_BY_CPU.items():
        if task_cpu < cpu:
            continue
        for task_memory in memories:
            if task_memory >= memory:
                return task_cpu, task_memory
    return None


def task_size(
    service: str,
    app_cpu: int,
    app_memory: int,
    tracing_sidecar: bool,
    *,
    proxy_cpu: int = SERVICE_CONNECT_PROXY_CPU,
    proxy_memory: int = SERVICE_CONNECT_PROXY_MEMORY_MIB,
    sidecar_cpu: int = TRACING_SIDECAR_CPU,
    sidecar_memory: int = TRACING_SIDECAR_MEMORY_MIB,
) -> TaskSize:
    """Task cpu/memory = app + tracing sidecar (if any) + Service Connect proxy, rounded up to Fargate.

    `proxy_cpu` can be raised to 512 for services above 500 requests/s at peak (AWS's advice); the
    proxy reservation cannot go below AWS's minimum of 256 CPU units / 64 MiB.
    """
    if app_cpu < 1 or app_memory < MIN_CONTAINER_MEMORY_MIB:
        raise SizingError(
            f"service {service!r}: app cpu must be >= 1 unit and memory >= {MIN_CONTAINER_MEMORY_MIB} MiB, "
            f"got cpu={app_cpu}, memory={app_memory}"
        )
    if proxy_cpu < 256 or proxy_memory < 64:
        raise SizingError(
            f"service {service!r}: the Service Connect proxy needs at least 256 CPU units and 64 MiB "
            f"(AWS recommendation), got cpu={proxy_cpu}, memory={proxy_memory}"
        )
    if not tracing_sidecar:
        sidecar_cpu, sidecar_memory = 0, 0
    needed_cpu = app_cpu + sidecar_cpu + proxy_cpu
    needed_memory = app_memory + sidecar_memory + proxy_memory
    chosen = smallest_fargate_size(needed_cpu, needed_memory)
    if chosen is None:
        valid = ", ".join(f"{cpu}/{memory}" for cpu, memory in FARGATE_LINUX_SIZES)
        raise SizingError(
            f"service {service!r}: no Fargate Linux size holds cpu={needed_cpu} units, memory={needed_memory} MiB "
            f"(app {app_cpu}/{app_memory} + tracing sidecar {sidecar_cpu}/{sidecar_memory} "
            f"+ Service Connect proxy {proxy_cpu}/{proxy_memory}). Valid cpu/memory pairs: {valid}"
        )
    return TaskSize(
        service=service,
        app_cpu=app_cpu,
        app_memory=app_memory,
        sidecar_cpu=sidecar_cpu,
        sidecar_memory=sidecar_memory,
        proxy_cpu=proxy_cpu,
        proxy_memory=proxy_memory,
        task_cpu=chosen[0],
        task_memory=chosen[1],
    )
