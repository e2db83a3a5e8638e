"""NAT gateways, addresses, endpoints, load balancers, certificates and DNS."""

from __future__ import annotations

from ..values import is_unknown
from .model import CostResource
from .prices import RegionPrices
from .pricing import PricerBase, number


class NetworkPricing(PricerBase):
    """NAT gateways, addresses, endpoints, load balancers, certificates and DNS."""

    # -- network ----------------------------------------------------------------------------------

    def _nat_gateway(self, nat: CostResource, prices: RegionPrices) -> None:
        share = self.usage.nat_gb_per_month / max(self.nat_count, 1)
        self.add(nat, "NAT gateways", prices.usd("nat_gateway_hour") * self.hours, f"{self.hours:g} h")
        self.add(nat, "NAT gateways", share * prices.usd("nat_gateway_gb"), f"{share:g} GB processed")

    def _eip(self, eip: CostResource, prices: RegionPrices) -> None:
        self.add(eip, "public IPv4 addresses", prices.usd("public_ipv4_hour") * self.hours, f"1 IP x {self.hours:g} h")

    def _vpc_endpoint(self, endpoint: CostResource, prices: RegionPrices) -> None:
        if endpoint.inputs.get("vpcEndpointType", "Gateway") != "Interface":
            return
        subnets = endpoint.inputs.get("subnetIds")
        azs = len(subnets) if isinstance(subnets, list) and subnets else 1
        self.add(endpoint, "interface endpoints", azs * prices.usd("interface_endpoint_az_hour") * self.hours,
                 f"{azs} AZ x {self.hours:g} h")
        gb = self.usage.interface_endpoint_gb_per_month
        self.add(endpoint, "interface endpoints", gb * prices.usd("interface_endpoint_gb"), f"{gb:g} GB")

    def _load_balancer(self, lb: CostResource, prices: RegionPrices) -> None:
        if lb.inputs.get("loadBalancerType", "application") != "application":
            self.gap(lb, "only application load balancers are priced")
            return
        lcu = self.usage.alb_lcu
        self.add(lb, "load balancer", prices.usd("alb_hour") * self.hours, f"{self.hours:g} h")
        self.add(lb, "load balancer", lcu * prices.usd("alb_lcu_hour") * self.hours, f"{lcu:g} LCU x {self.hours:g} h")
        if lb.inputs.get("internal") is not True:
            subnets = lb.inputs.get("subnets") or lb.inputs.get("subnetMappings")
            ips = len(subnets) if isinstance(subnets, list) and subnets else 2
            self.add(lb, "public IPv4 addresses", ips * prices.usd("public_ipv4_hour") * self.hours,
                     f"{ips} IPs (one per AZ) x {self.hours:g} h")

    # -- certificates, DNS ------------------------------------------------------------------------

    def _private_ca(self, ca: CostResource, prices: RegionPrices) -> None:
        short = ca.inputs.get("usageMode") == "SHORT_LIVED_CERTIFICATE"
        name = "private_ca_short_lived_month" if short else "private_ca_general_purpose_month"
        self.add(ca, "Private CA", prices.usd(name), "short-lived mode" if short else "general-purpose mode")

    def _hosted_zone(self, zone: CostResource, prices: RegionPrices) -> None:
        self.add(zone, "Route 53", prices.usd("route53_hosted_zone_month"), "1 hosted zone")

    def _region_switch_plan(self, plan: CostResource, prices: RegionPrices) -> None:
        self.add(plan, "Region switch plan", prices.usd("arc_region_switch_plan_month"), "1 plan")

    def _health_check(self, check: CostResource, prices: RegionPrices) -> None:
        fqdn = check.inputs.get("fqdn")
        # An fqdn unknown during preview is computed from a resource of this program (an AWS endpoint).
        aws = check.inputs.get("type") in ("CALCULATED", "CLOUDWATCH_METRIC") or is_unknown(fqdn) \
            or str(fqdn or "").endswith(".amazonaws.com")
        kind = check.inputs.get("type", "")
        options = [name for name, on in (
            ("HTTPS", str(kind).startswith("HTTPS")), ("string matching", str(kind).endswith("STR_MATCH")),
            ("fast interval", number(check.inputs.get("requestInterval")) == 10),
            ("latency measurement", check.inputs.get("measureLatency") is True)) if on]
        base = prices.usd("route53_health_check_aws_month" if aws else "route53_health_check_non_aws_month")
        option = prices.usd("route53_health_check_option_aws_month" if aws
                            else "route53_health_check_option_non_aws_month")
        self.add(check, "Route 53", base + len(options) * option,
                 f"{'AWS' if aws else 'non-AWS'} endpoint + {', '.join(options) or 'no options'}")
