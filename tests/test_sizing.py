import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.mesh_service.sizing import (
    FARGATE_LINUX_SIZES,
    SERVICE_CONNECT_PROXY_CPU,
    SERVICE_CONNECT_PROXY_MEMORY_MIB,
    SizingError,
    task_size,
)

# Written out from the AWS table rather than derived from the module under test, so a typo in the
# module's ranges shows up here.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-cpu-memory-error.html
AWS_TABLE_ROWS = {
    256: [512, 1024, 2048],
    512: [1024, 2048, 3072, 4096],
    1024: [2048, 3072, 4096, 5120, 6144, 7168, 8192],
    2048: list(range(4096, 16385, 1024)),
    4096: list(range(8192, 30721, 1024)),
    8192: list(range(16384, 61441, 4096)),
    16384: list(range(32768, 122881, 8192)),
}
AWS_PAIRS = {(cpu, memory) for cpu, memories in AWS_TABLE_ROWS.items() for memory in memories}


def test_table_matches_aws_documentation():
    assert set(FARGATE_LINUX_SIZES) == AWS_PAIRS
    assert len(FARGATE_LINUX_SIZES) == len(AWS_PAIRS)


def test_aws_worked_example_rounds_768_cpu_and_1088_mib_up_to_1024_and_2048():
    # AWS: an app of 512 CPU / 1024 MiB needs at least 768 / 1088 with the proxy; nearest is 1024/2048.
    size = task_size("auth", 512, 1024, tracing_sidecar=False, proxy_memory=64)
    assert (size.requested_cpu, size.requested_memory) == (768, 1088)
    assert (size.task_cpu, size.task_memory) == (1024, 2048)


def test_proxy_reservation_of_256_cpu_and_256_mib_is_in_the_request():
    size = task_size("auth", 256, 512, tracing_sidecar=False)
    assert (size.proxy_cpu, size.proxy_memory) == (256, 256)
    assert (size.requested_cpu, size.requested_memory) == (512, 768)
    assert (size.task_cpu, size.task_memory) == (512, 1024)


def test_tracing_sidecar_adds_its_reservation_and_can_push_the_task_to_the_next_size():
    without = task_size("orders", 256, 768, tracing_sidecar=False)
    with_sidecar = task_size("orders", 256, 768, tracing_sidecar=True)
    assert (without.task_cpu, without.task_memory) == (512, 1024)
    assert with_sidecar.requested_memory == 768 + with_sidecar.sidecar_memory + SERVICE_CONNECT_PROXY_MEMORY_MIB
    assert (with_sidecar.task_cpu, with_sidecar.task_memory) == (1024, 2048)


def test_container_limits_stay_below_the_task_so_the_proxy_keeps_its_share():
    size = task_size("auth", 1000, 3000, tracing_sidecar=True)
    assert size.app_memory_limit >= size.app_memory
    assert size.app_memory_limit + size.sidecar_memory < size.task_memory
    assert size.app_cpu_limit + size.sidecar_cpu < size.task_cpu


def test_impossible_request_names_the_service_and_lists_the_valid_pairs():
    with pytest.raises(SizingError) as error:
        task_size("ledger", 16384, 32768, tracing_sidecar=False)
    message = str(error.value)
    assert "'ledger'" in message
    assert "256/512" in message and "16384/122880" in message


def test_proxy_reservation_below_aws_minimum_is_refused():
    with pytest.raises(SizingError, match="256 CPU units and 64 MiB"):
        task_size("auth", 256, 512, tracing_sidecar=False, proxy_cpu=128)


def test_breakdown_shows_every_part_of_the_task():
    breakdown = task_size("auth", 512, 1024, tracing_sidecar=True).breakdown()
    assert breakdown["service_connect_proxy"] == {"cpu": SERVICE_CONNECT_PROXY_CPU, "memory": SERVICE_CONNECT_PROXY_MEMORY_MIB}
    assert breakdown["requested_total"] == {"cpu": 512 + 128 + 256, "memory": 1024 + 256 + 256}
    assert breakdown["fargate_size"] == {"cpu": 1024, "memory": 2048}


@settings(max_examples=300, deadline=None)
@given(
    app_cpu=st.integers(min_value=128, max_value=4096),
    app_memory=st.integers(min_value=256, max_value=16384),
    tracing=st.booleans(),
)
def test_chosen_size_is_valid_covers_the_request_and_is_the_smallest_that_does(app_cpu, app_memory, tracing):
    size = task_size("svc", app_cpu, app_memory, tracing_sidecar=tracing)
    chosen = (size.task_cpu, size.task_memory)
    assert chosen in AWS_PAIRS
    assert size.task_cpu >= app_cpu + size.sidecar_cpu + SERVICE_CONNECT_PROXY_CPU
    assert size.task_memory >= app_memory + size.sidecar_memory + SERVICE_CONNECT_PROXY_MEMORY_MIB
    covering = [(c, m) for c, m in AWS_PAIRS if c >= size.requested_cpu and m >= size.requested_memory]
    # Smallest in both dimensions at once: no covering pair has less CPU or less memory.
    assert all(c >= size.task_cpu and m >= size.task_memory for c, m in covering)
    # Containers together claim strictly less than the task, as AWS requires with Service Connect.
    assert size.app_memory_limit + size.sidecar_memory < size.task_memory
    assert size.app_cpu_limit + size.sidecar_cpu < size.task_cpu
