"""The preview benchmark's floors register what the program registered (scripts/bench_preview.py)."""

from __future__ import annotations

import sys
from pathlib import Path

from devkit.mocks import run_program
from foundation.settings import read_stack_file

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import bench_preview


def _replay(records: list[dict], *, typed: bool) -> dict[str, dict]:
    config = read_stack_file("staging")
    recorder, _ = run_program(lambda: bench_preview.register_records(records, typed=typed) and None,
                              project="microservices-foundation", stack="staging",
                              region=config.config["aws:region"], config=config.config,
                              secret_keys=list(config.secret_keys))
    return {record["urn"]: record for record in recorder.to_json()}


def test_the_typed_floor_registers_the_programs_resources_with_the_same_parents_providers_and_inputs(staging):
    records = staging.recorder.to_json()  # sorted by URN, as --json writes them: the floor orders parents first
    replayed = _replay(records, typed=True)

    assert set(replayed) == {record["urn"] for record in records}
    for record in records:
        again = replayed[record["urn"]]
        assert (again["type"], again["parent"], again["provider"], again["custom"]) == (
            record["type"], record["parent"], record["provider"], record["custom"]), record["urn"]
        # An archive is recorded by content digest; the floor sends an archive of the same names.
        differing = {key for key in record["inputs"].keys() | again["inputs"].keys()
                     if record["inputs"].get(key) != again["inputs"].get(key)}
        if differing:
            assert differing == {"code"} and record["type"] == "aws:lambda/function:Function", record["urn"]
            assert again["inputs"]["code"]["assetArchive"].keys() == record["inputs"]["code"]["assetArchive"].keys()


def test_the_raw_floor_registers_the_same_resources_and_inputs_without_provider_classes(staging):
    records = staging.recorder.to_json()
    replayed = _replay(records, typed=False)

    assert set(replayed) == {record["urn"] for record in records}
    assert all(replayed[r["urn"]]["inputs"] == r["inputs"] and replayed[r["urn"]]["parent"] == r["parent"]
               for r in records)
