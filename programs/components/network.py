"""The network every tier stands on: VPC, public subnets with a route out, private subnets."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from programs.errors import DefinitionError

VPC_CIDR = "10.0.0.0/16"


@dataclass(frozen=True)
class NetworkArgs:
    availability_zones: tuple[str, ...]
    public_subnet_count: int
    private_subnet_count: int


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stepladder:network:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=VPC_CIDR,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": f"{name}-vpc"},
            opts=child,
        )
        gateway = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, opts=child)
        public_routes = aws.ec2.RouteTable(
            f"{name}-public-routes",
            vpc_id=vpc.id,
            routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": gateway.id}],
            opts=child,
        )

        self.public_subnet_ids = []
        for index in range(args.public_subnet_count):
            subnet = aws.ec2.Subnet(
                f"{name}-public-{index}",
                vpc_id=vpc.id,
                # Public subnets take 10.0.0.0/24, 10.0.1.0/24, ...; private ones start at .100.
                cidr_block=f"10.0.{index}.0/24",
                availability_zone=_zone(args.availability_zones, index),
                map_public_ip_on_launch=True,
                tags={"Name": f"{name}-public-{index}"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{index}-routes",
                subnet_id=subnet.id,
                route_table_id=public_routes.id,
                opts=child,
            )
            self.public_subnet_ids.append(subnet.id)

        self.private_subnet_ids = []
        for index in range(args.private_subnet_count):
            subnet = aws.ec2.Subnet(
                f"{name}-private-{index}",
                vpc_id=vpc.id,
                cidr_block=f"10.0.{100 + index}.0/24",
                availability_zone=_zone(args.availability_zones, index),
                tags={"Name": f"{name}-private-{index}"},
                opts=child,
            )
            self.private_subnet_ids.append(subnet.id)

        self.vpc_id = vpc.id
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "public_subnet_ids": self.public_subnet_ids,
                "private_subnet_ids": self.private_subnet_ids,
            }
        )


def _zone(zones: tuple[str, ...], index: int) -> str:
    return zones[index % len(zones)]


def available_zones(
    count: int, region: str, provider: aws.Provider, deployed: tuple[str, ...] = ()
) -> tuple[str, ...]:
    """The zones deployed so far, then the region's available zones in name order, `count` in
    all.

    Only zones every account has: a Local or Wavelength Zone the account opted into would
    otherwise sort among them. Deployed zones come first and stay, whatever AWS lists now."""
    if len(deployed) >= count:
        return deployed[:count]
    found = aws.get_availability_zones(
        state="available",
        filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
        opts=pulumi.InvokeOptions(provider=provider),
    )
    names = deployed + tuple(name for name in sorted(found.names) if name not in deployed)
    if len(names) < count:
        raise DefinitionError(
            f"region {region} offers {len(names)} availability zones, "
            f"the definition asks for {count}"
        )
    return names[:count]
