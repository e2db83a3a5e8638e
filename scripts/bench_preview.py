"""Time and memory of the offline preview, per stack: the medians of N runs in fresh processes.

    python scripts/bench_preview.py [--runs 5]

Each run is `python -m devkit preview --stack NAME` exactly as a newcomer types it (program under
the mock runtime + the policy pack over gRPC). Prints wall-clock median/min/max and the peak resident
memory of the run (its own process and the policy pack it starts).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
STACKS = ["staging", "staging-euw1", "prod", "prod-euw1"]


def one_run(stack: str) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "devkit", "preview", "--stack", stack], cwd=PROJECT_DIR,
                   check=True, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    # ru_maxrss of children is the largest child so far (KiB on Linux); report it when it grew.
    peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    return elapsed, peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    print(f"offline preview, {runs} runs per stack, fresh process each (python {sys.version.split()[0]})")
    print(f"{'stack':<14}{'median s':>10}{'min s':>8}{'max s':>8}{'peak RSS MiB':>14}")
    medians = {}
    for stack in STACKS:
        samples = [one_run(stack) for _ in range(runs)]
        times = [t for t, _ in samples]
        medians[stack] = statistics.median(times)
        print(f"{stack:<14}{medians[stack]:>10.2f}{min(times):>8.2f}{max(times):>8.2f}"
              f"{max(p for _, p in samples):>14.0f}")
    print(f"prod / staging median ratio: {medians['prod'] / medians['staging']:.2f}")


if __name__ == "__main__":
    main()
