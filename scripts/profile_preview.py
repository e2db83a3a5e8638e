"""Where the offline preview spends its time, by package, sampled on all threads with py-spy.

    python scripts/profile_preview.py --services 200 --what program [--stack prod-euw1]  # the program
    python scripts/profile_preview.py --services 200 --what floor     # the typed floor (bench_preview.py)
    python scripts/profile_preview.py --services 200 --what pack      # the policy pack's server process

Builds the same synthetic project as bench_preview.py, records raw py-spy samples of one run (the SDK
registers resources on executor threads, so every thread is sampled; threads parked in a wait are left
out), and prints the share of busy samples whose stack passes through each package, and the top functions.
py-spy: `pip install py-spy` (profiling only; not needed by the program or the tests).
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_preview

IDLE = re.compile(r"\b(wait|acquire|select|_worker|poll|epoll|sleep|_serve|_status)\b|policy\.py:141\)")
FRAME = re.compile(r"(.*?) \((.*?):\d+\)")


def package_of(path: str) -> str:
    path = path.split("site-packages/")[-1]
    if path.startswith("<frozen importlib"):
        return "imports"
    return path.split("/")[0] if "/" in path else path


def summarize(raw: Path, top: int) -> None:
    packages: collections.Counter[str] = collections.Counter()
    functions: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if IDLE.search(frames[-1]):
            continue
        total += int(count)
        seen_packages, seen_functions = set(), set()
        for frame in frames:
            match = FRAME.match(frame)
            if not match:
                continue
            function, path = match.groups()
            package, key = package_of(path), f"{function} ({path.split('site-packages/')[-1]})"
            if package not in seen_packages:
                seen_packages.add(package)
                packages[package] += int(count)
            if key not in seen_functions:
                seen_functions.add(key)
                functions[key] += int(count)
    print(f"{total} busy samples; share of samples whose stack passes through ...")
    for package, samples in packages.most_common(top):
        print(f"  {100 * samples / total:5.1f} %  {package}")
    print("top functions (inclusive):")
    for function, samples in functions.most_common(top):
        print(f"  {100 * samples / total:5.1f} %  {function}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument("--what", choices=["program", "floor", "pack"], default="program")
    parser.add_argument("--stack", choices=bench_preview.SCALE_STACKS, default="prod")
    parser.add_argument("--top", type=int, default=25)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="profile-preview-") as temporary:
        project, raw, records = Path(temporary) / "project", Path(temporary) / "raw.txt", Path(temporary) / "records.json"
        project.mkdir()
        bench_preview.scaled_project(options.services, project)
        cache = Path(temporary) / "cache"
        env = {"PYTHONPATH": str(project), "XDG_CACHE_HOME": str(cache)}
        worker = [sys.executable, "scripts/bench_preview.py", "--stack", options.stack, "--records", str(records)]
        if options.stack != "prod":  # a standby reads its primary's cached outputs, as in the bench
            bench_preview.measure(project, "program", "prod", Path(temporary) / "prod.json", cache)
        if options.what != "program":
            bench_preview.measure(project, "program", options.stack, records, cache)
        if options.what in ("program", "floor"):
            kind = "program" if options.what == "program" else "typed floor"
            subprocess.run(["py-spy", "record", "--threads", "-r", "100", "-f", "raw", "-o", str(raw), "--",
                            *worker, "--worker", kind], cwd=project, env={**env, "PATH": _path()},
                           check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        else:
            _profile_pack(project, json.loads(records.read_text()), raw, options.stack)
        summarize(raw, options.top)


def _profile_pack(project: Path, records: list, raw: Path, stack: str) -> None:
    sys.path.insert(0, str(project))
    from devkit.harness import PolicyPackAnalyzer

    with PolicyPackAnalyzer(stack=stack, project="microservices-foundation") as pack:
        if pack._process is None:
            raise RuntimeError("the policy pack server did not start")
        spy = subprocess.Popen(["py-spy", "record", "--pid", str(pack._process.pid), "--threads", "-r", "100", "-f",
                                "raw", "-o", str(raw)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(2)  # py-spy attaches
        pack.preview_result(records)
        spy.send_signal(2)
        spy.wait()


def _path() -> str:
    import os

    return os.environ.get("PATH", "")


if __name__ == "__main__":
    main()
