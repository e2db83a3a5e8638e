"""The mock runtime the offline preview and the tests run on."""

from __future__ import annotations

import pulumi
import pulumi_aws.ec2 as ec2
import pytest

from devkit.mocks import ACCOUNT_ID, run_program


def test_outputs_look_like_aws_with_region_account_and_id_prefixes():
    def program():
        provider = pulumi.ResourceOptions(provider=__import__("pulumi_aws").Provider("euw1", region="eu-west-1"))
        vpc = ec2.Vpc("network", cidr_block="10.0.0.0/16", opts=provider)
        group = ec2.SecurityGroup("group", vpc_id=vpc.id, opts=provider)
        return {"vpc": vpc.id, "group": group.arn}

    recorder, outputs = run_program(program, project="p", stack="s", region="eu-central-1")
    assert outputs["vpc"].startswith("vpc-") and len(outputs["vpc"]) == 21
    assert outputs["group"].startswith(f"arn:aws:ec2:eu-west-1:{ACCOUNT_ID}:security-group/sg-")
    group = recorder.one("aws:ec2/securityGroup:SecurityGroup")
    assert group.provider_region == "eu-west-1"
    assert group.property_dependencies["vpcId"] == [recorder.one("aws:ec2/vpc:Vpc").urn]


def test_a_failed_program_leaves_nothing_behind_for_the_next_run():
    def failing():
        vpc = ec2.Vpc("network", cidr_block="10.0.0.0/16")
        # fails while the subnet's inputs are prepared, with other registrations still pending
        ec2.Subnet("subnet", vpc_id=vpc.id.apply(lambda _: 1 / 0), cidr_block="10.0.0.0/24")
        ec2.InternetGateway("gateway", vpc_id=vpc.id)

    with pytest.raises(ZeroDivisionError):
        run_program(failing, project="p", stack="first", region="eu-central-1")

    recorder, _ = run_program(lambda: {"id": ec2.Vpc("other", cidr_block="10.1.0.0/16").id},
                              project="p", stack="second", region="eu-central-1")
    assert [r.name for r in recorder.resources] == ["other"]


def test_a_run_after_another_in_the_same_process_parents_its_resources_to_its_own_stack():
    for stack in ("first", "second"):
        recorder, _ = run_program(lambda: {"id": ec2.Vpc("network", cidr_block="10.0.0.0/16").id},
                                  project="p", stack=stack, region="eu-central-1")
        assert recorder.one("aws:ec2/vpc:Vpc").parent == f"urn:pulumi:{stack}::p::pulumi:pulumi:Stack::p-{stack}"
