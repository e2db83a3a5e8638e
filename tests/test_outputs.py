"""components/core/outputs.py: the SDK's Output.all / from_input / concat, as one Output each."""

from __future__ import annotations

import asyncio
import collections
from typing import Any

import pulumi
import pulumi_aws.ec2 as ec2
import pytest
from pulumi.output import UNKNOWN

from components.core.outputs import all_values, apply, concat, lift
from devkit.mocks import run_program

Pair = collections.namedtuple("Pair", "left right")


def _read_all(outputs: dict[str, pulumi.Output[Any]], into: dict[str, Any]) -> pulumi.Output[Any]:
    """An Output the run waits for, which puts (value, is_known, is_secret, resource URNs) of each of `outputs`
    in `into`."""
    async def read(key: str, output: pulumi.Output[Any]) -> None:
        resources = await output.resources()
        urns = sorted([await resource.urn.future() for resource in resources])
        into[key] = (await output.future(with_unknowns=True), await output.is_known(), await output.is_secret(), urns)

    return pulumi.Output.from_input(asyncio.gather(*[read(key, output) for key, output in outputs.items()]))


def _inputs() -> dict[str, Any]:
    """Inputs of every shape a program combines: known, unknown (a preview's computed id) and secret Outputs,
    plain values, and containers of them."""
    vpc = ec2.Vpc("network", cidr_block="10.0.0.0/16")
    group = ec2.SecurityGroup("group", vpc_id=vpc.id, description="x")
    known, unknown = vpc.cidr_block, group.id
    secret = pulumi.Output.secret("hush")
    return {
        "scalars": ("a", 1, 2.5, True, None),
        "outputs": (known, unknown, secret),
        "known outputs": (known, secret, "plain"),
        "nested": ({"cidr": known, "ids": [unknown, "x"], "deep": {"secret": secret}}, [known, [known, "y"]]),
        "tuples": ((known, "x"), (known, unknown)),
        "empty": ([], {}, ()),
        "unknown marker": (UNKNOWN, known),
        "output of a combination": (pulumi.Output.all(known, secret), pulumi.Output.all(known, unknown)),
        "output of a dict": (known.apply(lambda cidr: {"cidr": cidr, "list": [cidr]}),),
        "named tuple": (Pair(known, "x"),),
        "input type": (ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=1, to_port=2, cidr_blocks=[known]),),
    }


@pytest.mark.parametrize("unknowns", [False, True], ids=["up", "first preview"])
def test_all_values_resolves_to_what_output_all_does_for_every_kind_of_input(unknowns):
    data: dict[str, Any] = {}

    def program():
        outputs = {}
        for case, values in _inputs().items():
            outputs |= {("sdk", case): pulumi.Output.all(*values), ("ours", case): all_values(*values),
                        ("sdk", case + " lifted"): pulumi.Output.from_input(list(values)),
                        ("ours", case + " lifted"): lift(list(values))}
        return {"read": _read_all(outputs, data)}

    run_program(program, project="p", stack="s", region="eu-central-1", unknowns=unknowns)
    cases = {case for _, case in data}
    assert len(cases) == 2 * len(_inputs())
    for case in sorted(cases):
        assert data["ours", case] == data["sdk", case], case


def test_an_unknown_input_makes_the_combination_unknown_and_a_secret_one_makes_it_secret():
    result: dict[str, Any] = {}

    def program():
        group = ec2.SecurityGroup("group", description="x")
        return {"read": _read_all({"unknown": all_values("a", group.id),
                                   "secret": all_values("a", pulumi.Output.secret("s"))}, result)}

    run_program(program, project="p", stack="s", region="eu-central-1", unknowns=True)
    value, known, secret, resources = result["unknown"]
    assert (value, known, secret) == (["a", UNKNOWN], False, False) and len(resources) == 1
    assert result["secret"][1:3] == (True, True)


def test_concat_and_apply_give_what_the_sdk_gives():
    data: dict[str, Any] = {}

    def program():
        vpc = ec2.Vpc("network", cidr_block="10.0.0.0/16")
        return {"read": _read_all({
            ("sdk", "concat"): pulumi.Output.concat("vpc/", vpc.id, "/", "x"),
            ("ours", "concat"): concat("vpc/", vpc.id, "/", "x"),
            ("sdk", "apply output"): pulumi.Output.from_input(vpc.id).apply(str.upper),
            ("ours", "apply output"): apply(vpc.id, str.upper),
            ("sdk", "apply plain"): pulumi.Output.from_input("x").apply(str.upper),
            ("ours", "apply plain"): apply("x", str.upper)}, data)}

    for unknowns in (False, True):
        data.clear()
        run_program(program, project="p", stack="s", region="eu-central-1", unknowns=unknowns)
        for case in ("concat", "apply output", "apply plain"):
            assert data["ours", case] == data["sdk", case], (case, unknowns)


def test_a_resource_taking_a_combination_depends_on_the_same_resources_with_the_same_input(monkeypatch):
    def program(combine):
        def body():
            vpc = ec2.Vpc("network", cidr_block="10.0.0.0/16")
            group = ec2.SecurityGroup("group", vpc_id=vpc.id, description="x")
            ec2.SecurityGroup("combined", vpc_id=vpc.id, description=combine(vpc.cidr_block, group.id, "x").apply(
                lambda values: "/".join(str(v) for v in values)))
        return body

    recorded = {}
    for name, combine in (("sdk", pulumi.Output.all), ("ours", all_values)):
        recorder, _ = run_program(program(combine), project="p", stack="s", region="eu-central-1")
        recorded[name] = recorder.one("aws:ec2/securityGroup:SecurityGroup", "combined").to_json()
    assert recorded["ours"] == recorded["sdk"]
    assert recorded["ours"]["propertyDependencies"]["description"] == sorted(recorded["ours"]["dependencies"])


def test_combining_many_outputs_makes_one_output_not_one_per_value(monkeypatch):
    made = collections.Counter()
    original_init, original_from_data = pulumi.Output.__init__, pulumi.Output._from_data.__func__

    def counted_init(self, *args, **kwargs):
        made["outputs"] += 1
        original_init(self, *args, **kwargs)

    def counted_from_data(cls, data):
        made["outputs"] += 1
        return original_from_data(cls, data)

    monkeypatch.setattr(pulumi.Output, "__init__", counted_init)
    monkeypatch.setattr(pulumi.Output, "_from_data", classmethod(counted_from_data))

    def outputs_made(combine):
        def program():
            arns = [ec2.SecurityGroup(f"group-{i}", description="x").arn for i in range(10)]
            if combine is not None:
                combine(*arns, [*arns], {"arns": arns})

        made.clear()
        run_program(program, project="p", stack="s", region="eu-central-1")
        return made["outputs"]

    without = outputs_made(None)
    assert outputs_made(all_values) - without == 1
    assert outputs_made(pulumi.Output.all) - without > 60
