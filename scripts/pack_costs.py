"""Where the policy pack's time goes per resource: the engine protocol versus the policies.

    python scripts/pack_costs.py --services 100

Builds the synthetic project of bench_preview.py, records prod's resources, then sends them to the pack
twice, as `pulumi preview` does (one Analyze call per resource, then one AnalyzeStack):
  over gRPC  the pack in its own process, started as the engine starts it; CPU of the pack's process
             (from /proc) and of the harness, which plays the engine (builds and sends the requests)
  in process the pack's analyzer service called directly with the same requests: the policies' own
             cost, with pulumi-policy's conversion, without the transport
The difference between the two server figures is what gRPC costs the pack per call (Linux only).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_preview


def _process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(project: Path, records: list[dict]) -> None:
    sys.path.insert(0, str(project))
    from devkit.harness import PolicyPackAnalyzer, _providers_by_urn, analyze_request, analyze_stack_request

    providers = _providers_by_urn(records)
    resources = [r for r in records if not r["type"].startswith("pulumi:providers:")]
    with PolicyPackAnalyzer(stack="prod", project="microservices-foundation") as pack:
        if pack._process is None:
            raise RuntimeError("the policy pack server did not start")
        pid = pack._process.pid
        server, client = _process_cpu(pid), time.process_time()
        for record in resources:
            pack._call("Analyze", analyze_request(record, providers))
        analyze_server, analyze_client = _process_cpu(pid) - server, time.process_time() - client
        server, client = _process_cpu(pid), time.process_time()
        pack._call("AnalyzeStack", analyze_stack_request(records))
        stack_server, stack_client = _process_cpu(pid) - server, time.process_time() - client

    from pulumi_policy import policy as library

    from policies import pack as pack_module
    from policies.server import SharedConversionServicer

    servicer = SharedConversionServicer(pack_module.PACK_NAME, "0.0.1", pack_module.build_policies(),
                                        pack_module.PACK_ENFORCEMENT_LEVEL)
    assert isinstance(servicer, library._PolicyAnalyzerServicer)
    requests = [analyze_request(record, providers) for record in resources]
    stack_request = analyze_stack_request(records)
    start = time.process_time()
    for request in requests:
        servicer.Analyze(request, None)
    analyze_direct = time.process_time() - start
    start = time.process_time()
    servicer.AnalyzeStack(stack_request, None)
    stack_direct = time.process_time() - start

    count = len(resources)
    print(f"prod at the synthetic catalog: {count} resources analyzed, {len(records)} in AnalyzeStack")
    print(f"{'':<34}{'CPU s':>8}{'ms/resource':>13}")
    for label, seconds in (("Analyze, pack process (gRPC)", analyze_server),
                           ("Analyze, harness (engine side)", analyze_client),
                           ("Analyze, pack service in process", analyze_direct),
                           ("AnalyzeStack, pack process (gRPC)", stack_server),
                           ("AnalyzeStack, harness", stack_client),
                           ("AnalyzeStack, in process", stack_direct)):
        print(f"{label:<34}{seconds:>8.2f}{1000 * seconds / count:>13.2f}")
    print(f"gRPC on the pack's side: {1000 * (analyze_server - analyze_direct) / count:.2f} ms per Analyze call")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=100)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pack-costs-") as temporary:
        project, records = Path(temporary) / "project", Path(temporary) / "prod.json"
        project.mkdir()
        bench_preview.scaled_project(options.services, project)
        bench_preview.measure(project, "program", "prod", records, Path(temporary) / "cache")
        measure(project, json.loads(records.read_text()))


if __name__ == "__main__":
    main()
