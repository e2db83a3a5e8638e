"""required-vpc-endpoints requires the seeds' endpoints whatever the NAT strategy (in process on ResourceViews)."""

from __future__ import annotations

from policies.framework import ResourceView
from policies.vpc_endpoints import REQUIRED_VPC_ENDPOINTS, check_vpc_endpoints


def _view(type_: str, name: str, props: dict) -> ResourceView:
    return ResourceView(type=type_, name=name, urn=f"urn:pulumi:t::p::{type_}::{name}", props=props,
                        provider_props={"region": "eu-central-1"})


def _stack(nat_vpc: str | None, connectivity: str = "public") -> list[ResourceView]:
    views = [_view("aws:ec2/vpc:Vpc", "main", {"id": "vpc-1"}),
             _view("aws:ec2/subnet:Subnet", "public-a", {"id": "subnet-1", "vpcId": "vpc-1"}),
             _view("aws:ec2/subnet:Subnet", "other-a", {"id": "subnet-9", "vpcId": "vpc-9"}),
             _view("aws:ec2/vpcEndpoint:VpcEndpoint", "s3", {"vpcId": "vpc-1", "vpcEndpointType": "Gateway",
                                                             "serviceName": "com.amazonaws.eu-central-1.s3",
                                                             "routeTableIds": ["rtb-1"]})]
    if nat_vpc is not None:
        subnet = "subnet-1" if nat_vpc == "vpc-1" else "subnet-9"
        views.append(_view("aws:ec2/natGateway:NatGateway", "nat-a",
                           {"subnetId": subnet, "connectivityType": connectivity}))
    return views


def _missing(findings) -> list[str]:
    return sorted(f.message.split("'com.amazonaws.eu-central-1.")[1].split("'")[0] for f in findings)


def test_vpc_without_nat_needs_the_interface_endpoints():
    findings = check_vpc_endpoints(_stack(None), REQUIRED_VPC_ENDPOINTS.effective_config({}))
    assert _missing(findings) == ["ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssm"]


def test_a_vpc_with_a_public_nat_gateway_still_needs_the_interface_endpoints():
    findings = check_vpc_endpoints(_stack("vpc-1"), REQUIRED_VPC_ENDPOINTS.effective_config({}))
    assert _missing(findings) == ["ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssm"]


def test_a_vpc_with_a_nat_gateway_and_every_endpoint_passes():
    views = _stack("vpc-1") + [
        _view("aws:ec2/vpcEndpoint:VpcEndpoint", service, {
            "vpcId": "vpc-1", "vpcEndpointType": "Interface", "privateDnsEnabled": True, "subnetIds": ["subnet-1"],
            "serviceName": f"com.amazonaws.eu-central-1.{service}"})
        for service in ("ecr.api", "ecr.dkr", "logs", "ssm", "secretsmanager")]
    assert check_vpc_endpoints(views, REQUIRED_VPC_ENDPOINTS.effective_config({})) == []


def test_the_nat_rule_is_no_longer_a_knob():
    assert "natReplacesInterfaceEndpoints" not in REQUIRED_VPC_ENDPOINTS.config
