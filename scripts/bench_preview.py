"""Time and memory of the offline preview, each measurement in a fresh process; medians over --runs.

    python scripts/bench_preview.py [--runs 3]                       # the four real stacks, end to end
    python scripts/bench_preview.py --services 50 100 200 [--runs 3] # prod and prod-euw1, synthetic catalogs
    python scripts/bench_preview.py --services 200 --gc [--runs 3]   # prod's program by GC policy

Without --services: `python -m devkit preview --stack NAME` exactly as a newcomer types it (program under
the mock runtime + the policy pack over gRPC), wall clock and peak RSS.

With --services N: a copy of the project whose catalog has N services (devkit/synthetic.py: half routed,
a realistic call graph) and whose prod and prod-euw1 run all of them. Per stack it measures, each in its
own fresh process:
  program      the stack's program under the mocks (a standby with its primary's outputs cached, as a
               standby preview after its primary's; with --cold also without the cache)
  typed floor  the fair floor: the recorded resources registered again through the same typed pulumi_aws
               classes, with the same names, parents, providers and inputs (as plain values), in the same
               order, under the same mocks: what any program registering these resources costs
  typed floor+gc  the same under the program's garbage-collection policy: the like-for-like comparison
  raw floor    the same through bare `CustomResource`s (no provider classes): the SDK alone
  pack         the policy pack judging the recorded resources over gRPC as the engine sends them (its
               start-up, imports and the IAM database it loads before the first request, is printed apart)
  no-op pack   scripts/noop_pack: the same policies, same service and requests, checks doing nothing
and prints medians: CPU seconds (all threads; for a program the process and the children it waited for,
imports excluded; for a pack its server process from its first Analyze to its last answer, start-up
excluded), wall seconds, the cost per registration or judged resource, peak memory (the program's
process; the pack's server process) and the 1-minute load average when the measurement started (the
machine is shared: CPU seconds are what to compare, and a high load inflates them too). Then the ratios:
program against each floor, pack against the no-op pack. The program runs with its garbage-collection
policy (foundation/gc_policy.py), as `python -m devkit preview` and `pulumi up` run it; the floors with
CPython's defaults (what a program of this size costs that does not choose one). --gc compares prod's
program under CPython's default collector, the policy, and the collector off.
"""

from __future__ import annotations

import argparse
import gc
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
from typing import Any, cast

PROJECT_DIR = Path(__file__).resolve().parent.parent
STACKS = ["staging", "staging-euw1", "prod", "prod-euw1"]
SCALE_STACKS = ["prod", "prod-euw1"]
COPIED = ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.staging-euw1.yaml", "Pulumi.prod.yaml",
          "Pulumi.prod-euw1.yaml", "__main__.py", "components", "foundation", "devkit", "policies", "platform",
          "scripts")
KINDS = ("program", "typed floor", "typed floor+gc", "raw floor", "pack", "no-op pack")
PACK_DIRS = {"pack": "policies", "no-op pack": "scripts/noop_pack"}


# --- worker: runs inside the measured process --------------------------------------------------------

def _cpu_seconds() -> float:
    """CPU time of this process (all threads) and of the children it waited for: stable on a shared machine
    where wall-clock time also measures the neighbours."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_peak_mib(pid: int) -> float:
    """Peak resident memory of a running process (VmHWM, Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def worker(kind: str, stack: str, records_file: Path) -> dict[str, Any]:
    """One measurement. Imports happen before the clock starts (both sides pay for them once per process)."""
    sys.path.insert(0, str(Path.cwd()))
    import pulumi  # noqa: F401
    import pulumi_aws  # noqa: F401

    import foundation.stack  # noqa: F401
    from devkit.harness import PolicyPackAnalyzer
    from devkit.run import preview_stack
    from foundation.gc_policy import tune_for_registration

    records = json.loads(records_file.read_text()) if kind != "program" else []
    load = os.getloadavg()[0]
    start, cpu = time.perf_counter(), _cpu_seconds()
    peak = None
    if kind == "program":
        gc_mode = os.environ.get("BENCH_GC", "policy")
        if gc_mode == "policy":  # as `python -m devkit preview` and `pulumi up` (__main__.py) run the program
            tune_for_registration()
        elif gc_mode == "disabled":
            gc.disable()
        preview = preview_stack(stack)
        # The clock stops before the records are serialised for the floors: the floors are not charged for
        # reading them either.
        seconds, wall = _cpu_seconds() - cpu, time.perf_counter() - start
        records = [record.to_json() for record in preview.recorder.resources]  # in registration order
    elif kind == "raw floor":
        _floor_program(stack, records, typed=False)
    elif kind == "typed floor":
        _floor_program(stack, records, typed=True)
    elif kind == "typed floor+gc":  # the fair floor under the program's garbage-collection policy
        tune_for_registration()
        _floor_program(stack, records, typed=True)
    elif kind in PACK_DIRS:
        with PolicyPackAnalyzer(Path.cwd() / PACK_DIRS[kind], stack=stack, project="microservices-foundation") as pack:
            if pack._process is None:
                raise RuntimeError("the policy pack server did not start")
            pid = pack._process.pid
            start, cpu = time.perf_counter(), process_cpu(pid)
            startup = cpu
            pack.preview_result(records)
            seconds, peak = process_cpu(pid) - cpu, process_peak_mib(pid)
    else:
        raise SystemExit(f"unknown worker {kind}")
    if kind != "program":
        wall = time.perf_counter() - start
    if kind not in PACK_DIRS and kind != "program":
        seconds = _cpu_seconds() - cpu
    judged = [r for r in records if not r["type"].startswith("pulumi:providers:")] if kind in PACK_DIRS else records
    result = {"seconds": seconds, "wall": wall, "resources": len(judged), "load": load,
              "collections": [generation["collections"] for generation in gc.get_stats()],
              "peak_mib": peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if kind in PACK_DIRS:
        result["startup"] = startup
    if kind == "program":
        records_file.write_text(json.dumps(records))
    return result


def _floor_program(stack: str, records: list[dict[str, Any]], *, typed: bool) -> int:
    """Register the recorded resources again: same types, names, parents and inputs (as recorded, plain
    values), same order, same mocks; no settings, no components' code. `typed`: through the pulumi_aws
    class of each type with its provider (the fair floor); else bare `CustomResource`s."""

    from devkit.mocks import run_program
    from foundation.settings import PROJECT_DIR as project_dir
    from foundation.settings import read_stack_file

    config = read_stack_file(stack, project_dir)

    def program() -> dict[str, Any]:
        register_records(records, typed=typed)
        return {}

    run_program(program, project="microservices-foundation", stack=stack, region=config.config["aws:region"],
                config=config.config, secret_keys=list(config.secret_keys))
    return len(records)


def register_records(records: list[dict[str, Any]], *, typed: bool) -> dict[str, Any]:
    """Register `records` (the offline preview's --json records, in order) and return them by URN."""
    import pulumi

    by_urn: dict[str, pulumi.Resource] = {}
    typed_classes = TypedClasses() if typed else None
    for record in parents_first(records):
        parent = by_urn.get(record["parent"]) if record["parent"] else None
        provider = cast(pulumi.ProviderResource | None, by_urn.get(record["provider"].rsplit("::", 1)[0])
                        if typed and record["provider"] else None)
        opts = pulumi.ResourceOptions(parent=parent, provider=provider)
        inputs = dict(record["inputs"])
        if typed_classes is not None and (record["custom"] or record["type"] == "pulumi:providers:aws"):
            resource_ = typed_classes.register(record["type"], record["name"], inputs, opts)
        elif record["type"] == "pulumi:providers:aws":
            resource_ = pulumi.ProviderResource("aws", record["name"], inputs, opts)
        elif record["custom"]:
            resource_ = pulumi.CustomResource(record["type"], record["name"], inputs, opts)
        else:
            resource_ = pulumi.ComponentResource(record["type"], record["name"], None, opts)
        by_urn[record["urn"]] = resource_
    return by_urn


def parents_first(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`records` in their order, except that each comes after its parent and its provider (a --json file is
    sorted by URN; a program registers a resource only once its parent and provider are registered)."""
    by_urn = {record["urn"]: record for record in records}
    ordered: list[dict[str, Any]] = []
    placed: set[str] = set()

    def place(record: dict[str, Any]) -> None:
        if record["urn"] in placed:
            return
        placed.add(record["urn"])
        for urn in (record["parent"], (record["provider"] or "").rsplit("::", 1)[0]):
            if urn in by_urn:
                place(by_urn[urn])
        ordered.append(record)

    for record in records:
        place(record)
    return ordered


class TypedClasses:
    """The pulumi_aws class of a type token and its Python argument names, as a program calls it."""

    def __init__(self) -> None:
        import pulumi.runtime.rpc as rpc
        import pulumi_aws  # noqa: F401  (registers its resource modules)

        self._where: dict[str, tuple[str, str]] = {}
        for modules in rpc._RESOURCE_MODULES.values():
            for module in modules if isinstance(modules, list) else [modules]:
                info = getattr(module, "mod_info", None)
                if isinstance(info, dict) and info.get("pkg") == "aws":
                    for token, name in info["classes"].items():
                        self._where[token] = (info["fqn"], name)
        self._classes: dict[str, tuple[Any, dict[str, str]]] = {}

    def _lookup(self, token: str) -> tuple[Any, dict[str, str]]:
        import importlib

        import pulumi
        import pulumi_aws
        from pulumi import _types

        if token not in self._classes:
            cls: type[Any]
            if token == "pulumi:providers:aws":
                cls = pulumi_aws.Provider
            elif token == "pulumi:pulumi:StackReference":
                cls = pulumi.StackReference
            else:
                fqn, name = self._where[token]
                cls = getattr(importlib.import_module(fqn), name)
            names = {wire: py for py, wire in _types.resource_py_to_pulumi_names(cls).items()}
            if cls is pulumi_aws.Provider:  # a provider declares its inputs on its args type only
                names |= {wire: py for py, wire in _types.input_type_py_to_pulumi_names(pulumi_aws.ProviderArgs).items()}
            self._classes[token] = (cls, names)
        return self._classes[token]

    def register(self, token: str, name: str, inputs: dict[str, Any], opts: Any) -> Any:
        cls, names = self._lookup(token)
        if token == "pulumi:providers:aws":  # a provider's inputs travel JSON-encoded; its class encodes them
            inputs = {key: _json_or_text(value) for key, value in inputs.items()}
        if token == "pulumi:pulumi:StackReference":
            return cls(name, stack_name=inputs.get("name"), opts=opts)
        return cls(name, opts=opts, **{names.get(key, key): _asset(value) for key, value in inputs.items()})


def _json_or_text(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _asset(value: Any) -> Any:
    """A recorded archive (kept by content digest, devkit/mocks.py) as an archive again: the typed classes
    check that an archive property resolves to one."""
    import pulumi

    if isinstance(value, dict) and set(value) == {"assetArchive"}:
        return pulumi.AssetArchive({name: pulumi.StringAsset(json.dumps(item)) for name, item in value["assetArchive"].items()})
    return value


# --- driver ------------------------------------------------------------------------------------------

def measure(project: Path, kind: str, stack: str, records_file: Path, cache_dir: Path,
            gc_mode: str = "policy") -> dict[str, Any]:
    env = dict(os.environ, XDG_CACHE_HOME=str(cache_dir), PYTHONPATH=str(project), BENCH_GC=gc_mode)
    result = subprocess.run(
        [sys.executable, str(project / "scripts" / "bench_preview.py"), "--worker", kind, "--stack", stack,
         "--records", str(records_file)], cwd=project, env=env, check=True, capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def scaled_project(services: int, target: Path, source: Path = PROJECT_DIR) -> None:
    """A copy of the project at `source` that runs `services` services in prod and prod-euw1."""
    import yaml

    sys.path.insert(0, str(PROJECT_DIR))
    from devkit.synthetic import enable_all, synthetic_catalog

    for name in COPIED:
        if (source / name).is_dir():
            shutil.copytree(source / name, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif (source / name).exists():
            shutil.copy2(source / name, target / name)
    # The measuring code is always this checkout's, whatever `source` is (e.g. an older commit's tree).
    shutil.copytree(PROJECT_DIR / "scripts", target / "scripts", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    catalog = synthetic_catalog(services)
    (target / "platform" / "services.yaml").write_text(yaml.safe_dump(catalog, sort_keys=False))
    for stack in SCALE_STACKS:
        path = target / f"Pulumi.{stack}.yaml"
        document = yaml.safe_load(path.read_text())
        document["config"] = enable_all(document["config"], catalog)
        path.write_text(yaml.safe_dump(document, sort_keys=False))


def bench_scale(services: int, runs: int, cold: bool, source: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-preview-") as temporary:
        project, cache = Path(temporary) / "project", Path(temporary) / "cache"
        project.mkdir()
        scaled_project(services, project, source)
        print(f"offline preview at {services} services ({services // 2} routed), {runs} runs, fresh process each "
              f"(python {sys.version.split()[0]}, {os.cpu_count()} CPUs)")
        print(f"{'stack':<11}{'what':<14}{'CPU s':>7}{'wall s':>8}{'resources':>10}{'ms/res':>8}{'peak MiB':>9}"
              f"{'load':>6}")
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for stack in SCALE_STACKS:
            records = Path(temporary) / f"{stack}.json"
            for kind in KINDS:
                # prod-euw1's program runs after prod's, which left its outputs in the cache.
                samples = [measure(project, kind, stack, records, cache) for _ in range(runs)]
                rows[(stack, kind)] = _row(stack, kind, samples)
            if cold and stack == "prod-euw1":
                samples = []
                for _ in range(runs):
                    shutil.rmtree(cache, ignore_errors=True)
                    samples.append(measure(project, "program", stack, records, cache))
                rows[(stack, "standby cold")] = _row(stack, "standby cold", samples)
        for stack in SCALE_STACKS:
            program, typed, raw = rows[(stack, "program")], rows[(stack, "typed floor")], rows[(stack, "raw floor")]
            pack, noop = rows[(stack, "pack")], rows[(stack, "no-op pack")]
            typed_gc = rows[(stack, "typed floor+gc")]
            print(f"{stack}: program/typed floor {program['seconds'] / typed['seconds']:.2f} "
                  f"(both under the GC policy: {program['seconds'] / typed_gc['seconds']:.2f}), "
                  f"program/raw floor {program['seconds'] / raw['seconds']:.2f}, "
                  f"pack/no-op pack {pack['seconds'] / noop['seconds']:.2f} "
                  f"({1000 * pack['seconds'] / pack['resources']:.2f} vs "
                  f"{1000 * noop['seconds'] / noop['resources']:.2f} ms/resource; start-up "
                  f"{pack['startup']:.2f} vs {noop['startup']:.2f} s), "
                  f"program peak {program['peak_mib']:.0f} MiB, load {program['load']:.2f}-{pack['load']:.2f}")
        if cold:
            warm, cold_row = rows[("prod-euw1", "program")], rows[("prod-euw1", "standby cold")]
            print(f"prod-euw1 with its primary's outputs cached: {warm['seconds']:.2f} s; "
                  f"without: {cold_row['seconds']:.2f} s")


def bench_gc(services: int, runs: int, source: Path) -> None:
    """prod's program under CPython's default collector, the program's policy (foundation/gc_policy.py) and
    with the collector off: CPU, peak memory and collections per generation."""
    with tempfile.TemporaryDirectory(prefix="bench-gc-") as temporary:
        project, records = Path(temporary) / "project", Path(temporary) / "prod.json"
        project.mkdir()
        scaled_project(services, project, source)
        print(f"prod's program at {services} services by garbage-collection policy, {runs} runs (medians)")
        print(f"{'collector':<11}{'CPU s':>7}{'wall s':>8}{'peak MiB':>9}{'load':>6}  collections per generation")
        for mode in ("default", "policy", "disabled"):
            samples = [measure(project, "program", "prod", records, Path(temporary) / "cache", mode)
                       for _ in range(runs)]
            middle = sorted(samples, key=lambda s: s["seconds"])[len(samples) // 2]
            print(f"{mode:<11}{middle['seconds']:>7.2f}{middle['wall']:>8.2f}"
                  f"{max(s['peak_mib'] for s in samples):>9.0f}{middle['load']:>6.2f}  {middle['collections']}",
                  flush=True)


def _row(stack: str, kind: str, samples: list[dict[str, Any]]) -> dict[str, Any]:
    seconds = statistics.median(s["seconds"] for s in samples)
    wall = statistics.median(s["wall"] for s in samples)
    row = {"seconds": seconds, "resources": samples[0]["resources"], "peak_mib": max(s["peak_mib"] for s in samples),
           "load": statistics.median(s["load"] for s in samples),
           "startup": statistics.median(s.get("startup", 0.0) for s in samples)}
    print(f"{stack:<11}{kind:<14}{seconds:>7.2f}{wall:>8.2f}{row['resources']:>10}"
          f"{1000 * seconds / row['resources']:>8.2f}{row['peak_mib']:>9.0f}{row['load']:>6.2f}", flush=True)
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
    parser.add_argument("--services", type=int, nargs="+",
                        help="benchmark prod and prod-euw1 with synthetic catalogs of these sizes")
    parser.add_argument("--cold", action="store_true", help="also the standby without its primary's cached outputs")
    parser.add_argument("--gc", action="store_true",
                        help="with --services: prod's program under each garbage-collection policy instead")
    parser.add_argument("--source", type=Path, default=PROJECT_DIR,
                        help="the project tree to measure (default: this checkout), e.g. an older commit's")
    parser.add_argument("--worker", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--stack", help=argparse.SUPPRESS)
    parser.add_argument("--records", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.worker:
        print(json.dumps(worker(options.worker, options.stack, options.records)))
    elif options.services:
        for services in options.services:
            if options.gc:
                bench_gc(services, options.runs, options.source.resolve())
                continue
            bench_scale(services, options.runs, options.cold, options.source.resolve())
    else:
        bench_stacks(options.runs)


if __name__ == "__main__":
    main()
