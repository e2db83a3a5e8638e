"""Time and memory of the offline preview, each measurement in a fresh process; medians over --runs.

    python scripts/bench_preview.py [--runs 3]                # the four real stacks, end to end
    python scripts/bench_preview.py --services 200 [--runs 3] # prod and prod-euw1 on a synthetic catalog

Without --services: `python -m devkit preview --stack NAME` exactly as a newcomer types it (program under
the mock runtime + the policy pack over gRPC), wall clock and peak RSS.

With --services N: a copy of the project whose catalog has N services (devkit/synthetic.py: half routed,
a realistic call graph) and whose prod and prod-euw1 run all of them. Per stack it measures, each in its
own fresh process:
  program  the stack's program under the mocks (a standby with its primary's outputs cached, as a
           standby preview after its primary's; `standby cold` is the same without the cache)
  floor    a bare SDK program registering the same resource types, names, parents and inputs, in the same
           order, under the same mocks: what any Pulumi program of this size costs
  pack     the policy pack judging the recorded resources over gRPC (the pack's time only)
and prints medians (CPU seconds of the process and the children it waits for, all threads, imports
excluded; wall seconds beside them), the cost per registration, peak memory and the program/floor ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
STACKS = ["staging", "staging-euw1", "prod", "prod-euw1"]
SCALE_STACKS = ["prod", "prod-euw1"]
COPIED = ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.staging-euw1.yaml", "Pulumi.prod.yaml",
          "Pulumi.prod-euw1.yaml", "__main__.py", "components", "foundation", "devkit", "policies", "platform",
          "scripts")


# --- worker: runs inside the measured process --------------------------------------------------------

def _cpu_seconds() -> float:
    """CPU time of this process (all threads) and of the children it waited for: stable on a shared machine
    where wall-clock time also measures the neighbours."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def worker(kind: str, stack: str, records_file: Path) -> dict:
    """One measurement. Imports happen before the clock starts (both sides pay for them once per process)."""
    sys.path.insert(0, str(Path.cwd()))
    import pulumi  # noqa: F401
    import pulumi_aws  # noqa: F401

    import foundation.stack  # noqa: F401
    from devkit.harness import PolicyPackAnalyzer
    from devkit.run import preview_stack

    records = json.loads(records_file.read_text()) if kind != "program" else []
    start, cpu = time.perf_counter(), _cpu_seconds()
    if kind == "program":
        preview = preview_stack(stack)
        records = preview.recorder.to_json()
    elif kind == "floor":
        _bare_program(stack, records)
    elif kind == "pack":
        with PolicyPackAnalyzer(stack=stack, project="microservices-foundation") as pack:
            pack.preview_result(records)
    else:
        raise SystemExit(f"unknown worker {kind}")
    result = {"seconds": _cpu_seconds() - cpu, "wall": time.perf_counter() - start, "resources": len(records),
              "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if kind == "program":
        records_file.write_text(json.dumps(records))
    return result


def _bare_program(stack: str, records: list[dict]) -> int:
    """Register the recorded resources again with nothing but the SDK: same types, names, parents and
    inputs (as recorded, camelCase), same order, same mocks. No settings, no components' code."""
    import pulumi

    from devkit.mocks import run_program
    from foundation.settings import PROJECT_DIR as project_dir
    from foundation.settings import read_stack_file

    config = read_stack_file(stack, project_dir)
    by_urn: dict[str, pulumi.Resource] = {}

    def program():
        for record in records:
            parent = by_urn.get(record["parent"]) if record["parent"] else None
            opts = pulumi.ResourceOptions(parent=parent)
            resource_: pulumi.Resource
            if record["type"] == "pulumi:providers:aws":
                resource_ = pulumi.ProviderResource("aws", record["name"], dict(record["inputs"]), opts)
            elif record["custom"]:
                resource_ = pulumi.CustomResource(record["type"], record["name"], dict(record["inputs"]), opts)
            else:
                resource_ = pulumi.ComponentResource(record["type"], record["name"], None, opts)
            by_urn[record["urn"]] = resource_
        return {}

    run_program(program, project="microservices-foundation", stack=stack, region=config.config["aws:region"],
                config=config.config, secret_keys=list(config.secret_keys))
    return len(records)


# --- driver ------------------------------------------------------------------------------------------

def measure(project: Path, kind: str, stack: str, records_file: Path, cache_dir: Path) -> dict:
    env = dict(os.environ, XDG_CACHE_HOME=str(cache_dir), PYTHONPATH=str(project))
    result = subprocess.run(
        [sys.executable, str(project / "scripts" / "bench_preview.py"), "--worker", kind, "--stack", stack,
         "--records", str(records_file)], cwd=project, env=env, check=True, capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def scaled_project(services: int, target: Path) -> None:
    """A copy of the project that runs `services` services in prod and prod-euw1."""
    import yaml

    sys.path.insert(0, str(PROJECT_DIR))
    from devkit.synthetic import enable_all, synthetic_catalog

    for name in COPIED:
        source = PROJECT_DIR / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / name)
    catalog = synthetic_catalog(services)
    (target / "platform" / "services.yaml").write_text(yaml.safe_dump(catalog, sort_keys=False))
    for stack in SCALE_STACKS:
        path = target / f"Pulumi.{stack}.yaml"
        document = yaml.safe_load(path.read_text())
        document["config"] = enable_all(document["config"], catalog)
        path.write_text(yaml.safe_dump(document, sort_keys=False))


def bench_scale(services: int, runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-preview-") as temporary:
        project, cache = Path(temporary) / "project", Path(temporary) / "cache"
        project.mkdir()
        scaled_project(services, project)
        print(f"offline preview at {services} services ({services // 2} routed), {runs} runs, fresh process each "
              f"(python {sys.version.split()[0]}, {os.cpu_count()} CPUs)")
        print(f"{'stack':<11}{'what':<14}{'CPU s':>7}{'wall s':>8}{'resources':>10}{'ms/res':>8}{'peak MiB':>9}")
        rows: dict[tuple[str, str], dict] = {}
        for stack in SCALE_STACKS:
            records = Path(temporary) / f"{stack}.json"
            kinds = ["program", "floor", "pack"]
            for kind in kinds:
                # prod-euw1's program runs after prod's, which left its outputs in the cache.
                samples = [measure(project, kind, stack, records, cache) for _ in range(runs)]
                rows[(stack, kind)] = _row(stack, kind, samples)
            if stack == "prod-euw1":
                cold = []
                for _ in range(runs):
                    shutil.rmtree(cache, ignore_errors=True)
                    cold.append(measure(project, "program", stack, records, cache))
                rows[(stack, "standby cold")] = _row(stack, "standby cold", cold)
        for stack in SCALE_STACKS:
            program, floor, pack = rows[(stack, "program")], rows[(stack, "floor")], rows[(stack, "pack")]
            print(f"{stack}: program/floor {program['seconds'] / floor['seconds']:.2f}, "
                  f"program {1000 * program['seconds'] / program['resources']:.2f} ms/registration, "
                  f"floor {1000 * floor['seconds'] / floor['resources']:.2f} ms/registration, "
                  f"pack {1000 * pack['seconds'] / pack['resources']:.2f} ms/resource")
        warm, uncached = rows[("prod-euw1", "program")], rows[("prod-euw1", "standby cold")]
        print(f"prod-euw1 with its primary's outputs cached: {warm['seconds']:.2f} s; "
              f"without: {uncached['seconds']:.2f} s")


def _row(stack: str, kind: str, samples: list[dict]) -> dict:
    seconds = statistics.median(s["seconds"] for s in samples)
    wall = statistics.median(s["wall"] for s in samples)
    row = {"seconds": seconds, "resources": samples[0]["resources"], "peak_mib": max(s["peak_mib"] for s in samples)}
    print(f"{stack:<11}{kind:<14}{seconds:>7.2f}{wall:>8.2f}{row['resources']:>10}"
          f"{1000 * seconds / row['resources']:>8.2f}{row['peak_mib']:>9.0f}", flush=True)
    return row


def bench_stacks(runs: int) -> None:
    print(f"offline preview, {runs} runs per stack, fresh process each (python {sys.version.split()[0]})")
    print(f"{'stack':<14}{'median s':>10}{'min s':>8}{'max s':>8}{'peak RSS MiB':>14}")
    medians = {}
    for stack in STACKS:
        samples = []
        for _ in range(runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "devkit", "preview", "--stack", stack], cwd=PROJECT_DIR,
                           check=True, stdout=subprocess.DEVNULL)
            peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
            samples.append((time.perf_counter() - start, peak))
        times = [t for t, _ in samples]
        medians[stack] = statistics.median(times)
        print(f"{stack:<14}{medians[stack]:>10.2f}{min(times):>8.2f}{max(times):>8.2f}"
              f"{max(p for _, p in samples):>14.0f}")
    print(f"prod / staging median ratio: {medians['prod'] / medians['staging']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--services", type=int, help="benchmark prod and prod-euw1 with a synthetic catalog of N services")
    parser.add_argument("--worker", choices=["program", "floor", "pack"], help=argparse.SUPPRESS)
    parser.add_argument("--stack", help=argparse.SUPPRESS)
    parser.add_argument("--records", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.worker:
        print(json.dumps(worker(options.worker, options.stack, options.records)))
    elif options.services:
        bench_scale(options.services, options.runs)
    else:
        bench_stacks(options.runs)


if __name__ == "__main__":
    main()
