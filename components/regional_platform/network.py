"""The VPC of a region: subnets over 2-3 AZs, NAT per strategy, interface and gateway endpoints.

Built from `pulumi_aws.ec2` primitives rather than `awsx.ec2.Vpc`: awsx's VPC is a remote component whose
subnets and route tables are invisible offline (README, "What a region gets").
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pulumi_aws.ec2 as ec2
import pulumi_aws.vpc as vpc_rules

from components.regional_platform.args import RegionalPlatformArgs
from components.regional_platform.endpoints import GATEWAY_ENDPOINTS, endpoint_service_name, interface_endpoint_services

# Both supported regions have zones a, b and c; letters map to different physical zones per account,
# which is fine: only distinctness matters here.
ZONE_LETTERS = "abc"
NAT_GATEWAYS_PER_STRATEGY: dict[str, Callable[[int], int]] = {"none": lambda zones: 0, "single": lambda zones: 1, "one-per-az": lambda zones: zones}


def subnet_plan(vpc_cidr: str, az_count: int) -> tuple[list[str], list[str]]:
    """Private and public subnet CIDRs: the VPC is cut into eighths; private subnets take the first
    az_count eighths, public ones the eighths from the middle, leaving room for a third tier."""
    eighths = list(ipaddress.ip_network(vpc_cidr).subnets(prefixlen_diff=3))
    return [str(n) for n in eighths[:az_count]], [str(n) for n in eighths[4:4 + az_count]]


@dataclass(frozen=True)
class Network:
    vpc: ec2.Vpc
    public_subnets: list[ec2.Subnet]
    private_subnets: list[ec2.Subnet]
    private_route_tables: list[ec2.RouteTable]
    endpoint_security_group: ec2.SecurityGroup
    interface_endpoints: dict[str, ec2.VpcEndpoint]
    s3_gateway: ec2.VpcEndpoint


def create_network(name: str, args: RegionalPlatformArgs, child: Callable[..., pulumi.ResourceOptions]) -> Network:
    zones = [f"{args.region}{letter}" for letter in ZONE_LETTERS[:args.az_count]]
    private_cidrs, public_cidrs = subnet_plan(args.vpc_cidr, args.az_count)

    # Private DNS on interface endpoints needs both DNS attributes on the VPC.
    vpc = ec2.Vpc(f"{name}-vpc", cidr_block=args.vpc_cidr, enable_dns_support=True,
                  enable_dns_hostnames=True, tags={"Name": f"{name}-vpc"}, opts=child())
    internet_gateway = ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags={"Name": f"{name}-igw"}, opts=child())

    public_routes = ec2.RouteTable(f"{name}-public", vpc_id=vpc.id, tags={"Name": f"{name}-public"}, opts=child())
    ec2.Route(f"{name}-public-internet", route_table_id=public_routes.id, destination_cidr_block="0.0.0.0/0",
              gateway_id=internet_gateway.id, opts=child())

    public_subnets, private_subnets, private_route_tables = [], [], []
    for index, zone in enumerate(zones):
        public = ec2.Subnet(f"{name}-public-{zone[-1]}", vpc_id=vpc.id, cidr_block=public_cidrs[index],
                            availability_zone=zone, map_public_ip_on_launch=False,
                            tags={"Name": f"{name}-public-{zone[-1]}", "tier": "public"}, opts=child())
        ec2.RouteTableAssociation(f"{name}-public-{zone[-1]}", subnet_id=public.id,
                                  route_table_id=public_routes.id, opts=child())
        public_subnets.append(public)

    nat_gateways = []
    for index in range(NAT_GATEWAYS_PER_STRATEGY[args.nat_strategy](len(zones))):
        letter = zones[index][-1]
        address = ec2.Eip(f"{name}-nat-{letter}", domain="vpc", tags={"Name": f"{name}-nat-{letter}"}, opts=child())
        nat_gateways.append(ec2.NatGateway(
            f"{name}-nat-{letter}", allocation_id=address.id, subnet_id=public_subnets[index].id,
            connectivity_type="public", tags={"Name": f"{name}-nat-{letter}"},
            opts=child(depends_on=[internet_gateway])))

    for index, zone in enumerate(zones):
        letter = zone[-1]
        private = ec2.Subnet(f"{name}-private-{letter}", vpc_id=vpc.id, cidr_block=private_cidrs[index],
                             availability_zone=zone, map_public_ip_on_launch=False,
                             tags={"Name": f"{name}-private-{letter}", "tier": "private"}, opts=child())
        routes = ec2.RouteTable(f"{name}-private-{letter}", vpc_id=vpc.id,
                                tags={"Name": f"{name}-private-{letter}"}, opts=child())
        if nat_gateways:
            # One NAT per AZ keeps a zone's egress alive when another zone fails.
            ec2.Route(f"{name}-private-{letter}-nat", route_table_id=routes.id, destination_cidr_block="0.0.0.0/0",
                      nat_gateway_id=nat_gateways[min(index, len(nat_gateways) - 1)].id, opts=child())
        ec2.RouteTableAssociation(f"{name}-private-{letter}", subnet_id=private.id, route_table_id=routes.id,
                                  opts=child())
        private_subnets.append(private)
        private_route_tables.append(routes)

    endpoint_security_group, interface_endpoints, gateways = _endpoints(
        name, args, vpc, private_subnets, private_route_tables, child)
    return Network(vpc, public_subnets, private_subnets, private_route_tables, endpoint_security_group,
                   interface_endpoints, gateways["s3"])


def _endpoints(name: str, args: RegionalPlatformArgs, vpc: ec2.Vpc, private_subnets: list[ec2.Subnet],
               private_route_tables: list[ec2.RouteTable], child: Callable[..., pulumi.ResourceOptions]
               ) -> tuple[ec2.SecurityGroup, dict[str, ec2.VpcEndpoint], dict[str, ec2.VpcEndpoint]]:
    security_group = ec2.SecurityGroup(
        f"{name}-endpoints", vpc_id=vpc.id, description="VPC interface endpoints: HTTPS from the VPC",
        tags={"Name": f"{name}-endpoints"}, opts=child())
    vpc_rules.SecurityGroupIngressRule(
        f"{name}-endpoints-https", security_group_id=security_group.id, ip_protocol="tcp",
        from_port=443, to_port=443, cidr_ipv4=args.vpc_cidr, description="HTTPS from inside the VPC", opts=child())

    endpoint_subnets = [s.id for s in private_subnets[:args.endpoint_az_count]]
    interface_endpoints = {}
    # endpoint_az_count 0 (only with NAT): every API call goes through the NAT gateway, which for a
    # small stack costs less than the endpoints' hourly charge (docs/cost-model.md).
    services = interface_endpoint_services(args.nat_strategy, service_connect=True, tracing=args.tracing) \
        if args.endpoint_az_count else ()
    for service in services:
        interface_endpoints[service] = ec2.VpcEndpoint(
            f"{name}-{service.replace('.', '-')}", vpc_id=vpc.id,
            service_name=endpoint_service_name(args.region, service), vpc_endpoint_type="Interface",
            private_dns_enabled=True, subnet_ids=endpoint_subnets, security_group_ids=[security_group.id],
            tags={"Name": f"{name}-{service}"}, opts=child())
    gateways = {}
    for service in GATEWAY_ENDPOINTS:
        gateways[service] = ec2.VpcEndpoint(
            f"{name}-{service}", vpc_id=vpc.id, service_name=endpoint_service_name(args.region, service),
            vpc_endpoint_type="Gateway", route_table_ids=[t.id for t in private_route_tables],
            tags={"Name": f"{name}-{service}"}, opts=child())
    return security_group, interface_endpoints, gateways
