"""The standby stack's one view of its primary: a typed, validated `pulumi.StackReference`.

The primary stack exports these outputs (camelCase names are the contract between the two stacks):

    region           str               primary region, e.g. "eu-central-1"
    environment      str               "prod" / "staging"; must equal the standby's environment
    role             "primary"
    vpcCidr          str               CIDR of the primary VPC (the standby's VPC must not overlap it)
    albDnsName       str               primary ALB DNS name
    albZoneId        str               primary ALB canonical hosted zone id
    hostedZoneId     str, optional     Route 53 zone of the failover record (absent without a domain)
    apiRecordName    str, optional     the failover record name; present exactly when hostedZoneId is
    secretArns       {str: str}        "<service>/<secret>" -> primary-region secret ARN
    repositoryNames  {str: str}        service -> ECR repository name "<environment>/<service>"
    dataTables       {str: {...}}      service -> {name, arn, replicas: {region: {arn, streamArn}}, replicaKeyArn}
                                       (prod: the standby's tasks and outbox pipe use the replica)
    databases        {str: {...}}      service -> {clusterArn, endpoint, globalClusterIdentifier}
                                       (prod: the standby's cluster joins that global database)

The outputs are validated inside `.apply`, so a missing or malformed output fails the standby's
deployment with one error naming the output and the primary stack, instead of a KeyError or a
resource created with a None argument.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
from collections.abc import Iterable
from typing import Any, Literal

import pulumi
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel

from components.data.service_secrets import replica_secret_arn, secret_arn_region

_REGION = r"^[a-z]{2}(-[a-z]+)+-\d$"
_HOSTED_ZONE_ID = r"^Z[A-Z0-9]{1,31}$"
_SECRET_KEY = re.compile(r"^[A-Za-z0-9_+=.@-]+/[A-Za-z0-9_+=.@-]+$")


class PrimaryStackContractError(ValueError):
    """The primary stack's outputs don't satisfy the contract the standby relies on."""


class PrimaryStackOutputs(BaseModel):
    """The primary stack outputs the standby needs, by their exported camelCase names."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True, extra="ignore")

    region: str = Field(pattern=_REGION)
    environment: str = Field(min_length=1)
    role: Literal["primary"]
    vpc_cidr: str
    alb_dns_name: str = Field(min_length=1)
    alb_zone_id: str = Field(pattern=_HOSTED_ZONE_ID)
    hosted_zone_id: str | None = Field(default=None, pattern=_HOSTED_ZONE_ID)
    api_record_name: str | None = Field(default=None, min_length=1)
    secret_arns: dict[str, str]
    repository_names: dict[str, str]

    @field_validator("vpc_cidr")
    @classmethod
    def _is_a_network(cls, value: str) -> str:
        ipaddress.ip_network(value, strict=True)  # raises ValueError: "... does not appear to be ..."
        return value

    @field_validator("secret_arns")
    @classmethod
    def _keys_and_arns(cls, value: dict[str, str]) -> dict[str, str]:
        for key, arn in value.items():
            if not _SECRET_KEY.fullmatch(key):
                raise ValueError(f"key {key!r} is not '<service>/<secret>'")
            secret_arn_region(arn)  # raises ValueError when it isn't a secret ARN
        return value

    @model_validator(mode="after")
    def _consistent(self) -> PrimaryStackOutputs:
        if (self.hosted_zone_id is None) != (self.api_record_name is None):
            raise ValueError("hostedZoneId and apiRecordName must be exported together (or both left out)")
        for key, arn in self.secret_arns.items():
            if secret_arn_region(arn) != self.region:
                raise ValueError(f"secretArns[{key!r}] {arn} is not in the primary region {self.region}")
        for service, repository in self.repository_names.items():
            if repository != f"{self.environment}/{service}":
                raise ValueError(f"repositoryNames[{service!r}] is {repository!r}, "
                                 f"expected '{self.environment}/{service}'")
        return self


def parse_primary_outputs(raw: dict[str, Any], primary_stack: str, *, expected_environment: str,
                          standby_region: str | None = None, standby_vpc_cidr: str | None = None,
                          required_secrets: Iterable[str] = ()) -> PrimaryStackOutputs:
    """Validate the primary's raw stack outputs; raise PrimaryStackContractError naming each bad output."""
    try:
        outputs = PrimaryStackOutputs.model_validate(raw or {})
    except ValidationError as error:
        raise PrimaryStackContractError(_describe(error, primary_stack, raw or {})) from None
    mismatches = []
    if outputs.environment != expected_environment:
        mismatches.append(f"output 'environment' is {outputs.environment!r}, the standby is {expected_environment!r}")
    if standby_region is not None and outputs.region == standby_region:
        mismatches.append(f"output 'region' is {outputs.region!r}, the standby's own region")
    if standby_vpc_cidr is not None and ipaddress.ip_network(outputs.vpc_cidr).overlaps(
            ipaddress.ip_network(standby_vpc_cidr)):
        mismatches.append(f"output 'vpcCidr' {outputs.vpc_cidr} overlaps the standby's VPC {standby_vpc_cidr}")
    missing_secrets = sorted(set(required_secrets) - set(outputs.secret_arns))
    if missing_secrets:
        mismatches.append(f"output 'secretArns' has no {missing_secrets}, which the standby's services read "
                          "(enable those services in the primary first)")
    if mismatches:
        raise PrimaryStackContractError(f"primary stack {primary_stack!r} is not this standby's primary: "
                                        + "; ".join(mismatches))
    return outputs


def _describe(error: ValidationError, primary_stack: str, raw: dict[str, Any]) -> str:
    problems = []
    for item in error.errors():
        output = ".".join(str(part) for part in item["loc"]) or "(whole stack)"
        if item["type"] == "missing":
            problems.append(f"output {output!r} is missing")
        else:
            # The message, never the value: a primary could mark an output secret.
            problems.append(f"output {output!r} is malformed: {item['msg']}")
    hint = " (has the primary stack been deployed?)" if not raw else ""
    return (f"primary stack {primary_stack!r} does not export what the standby needs{hint}: "
            + "; ".join(problems))


class PrimaryReference:
    """Typed Outputs read from the primary stack through one `pulumi.StackReference`.

    primary_stack: fully qualified `<organization>/<project>/<stack>`, e.g. `acme/microservices-foundation/prod`.
    expected_environment: the standby's environment; the primary must report the same one.
    standby_region: the standby's region; the primary must be elsewhere.
    standby_vpc_cidr: the standby's VPC CIDR; the primary's must not overlap it.
    required_secrets: `<service>/<secret>` keys the standby's services read; the primary must export them.
    """

    def __init__(self, primary_stack: str, *, expected_environment: str, standby_region: str | None = None,
                 standby_vpc_cidr: str | None = None, required_secrets: Iterable[str] = (),
                 resource_name: str = "primary-stack", opts: pulumi.ResourceOptions | None = None) -> None:
        parts = primary_stack.split("/")
        if len(parts) != 3 or not all(parts):
            raise PrimaryStackContractError(
                f"primary stack name {primary_stack!r} must be fully qualified: <organization>/<project>/<stack>")
        self.primary_stack = primary_stack
        self.stack_reference = pulumi.StackReference(resource_name, stack_name=primary_stack, opts=opts)
        self._outputs_by_name: dict[tuple[str, bool], pulumi.Output[Any]] = {}
        self.outputs: pulumi.Output[PrimaryStackOutputs] = self.stack_reference.outputs.apply(
            lambda raw: parse_primary_outputs(raw, primary_stack, expected_environment=expected_environment,
                                              standby_region=standby_region, standby_vpc_cidr=standby_vpc_cidr,
                                              required_secrets=tuple(required_secrets)))
        self.region: pulumi.Output[str] = self.outputs.apply(lambda o: o.region)
        self.environment: pulumi.Output[str] = self.outputs.apply(lambda o: o.environment)
        self.vpc_cidr: pulumi.Output[str] = self.outputs.apply(lambda o: o.vpc_cidr)
        self.alb_dns_name: pulumi.Output[str] = self.outputs.apply(lambda o: o.alb_dns_name)
        self.alb_zone_id: pulumi.Output[str] = self.outputs.apply(lambda o: o.alb_zone_id)
        self.hosted_zone_id: pulumi.Output[str | None] = self.outputs.apply(lambda o: o.hosted_zone_id)
        self.api_record_name: pulumi.Output[str | None] = self.outputs.apply(lambda o: o.api_record_name)
        self.secret_arns: pulumi.Output[dict[str, str]] = self.outputs.apply(lambda o: dict(o.secret_arns))
        self.repository_names: pulumi.Output[dict[str, str]] = self.outputs.apply(lambda o: dict(o.repository_names))

    def require_output(self, name: str) -> pulumi.Output[Any]:
        """The primary's output `name` (KeyError when the primary has none), read once per name and shared by
        every caller."""
        return self._output(name, required=True)

    def get_output(self, name: str) -> pulumi.Output[Any]:
        """The primary's output `name`, None when the primary has none."""
        return self._output(name, required=False)

    def _output(self, name: str, *, required: bool) -> pulumi.Output[Any]:
        """What `StackReference.require_output`/`get_output` return (the value, the reference as its resource,
        secret exactly when the primary marks that output secret), without their cost: the SDK reads a name
        through `Output.all(name, outputs)`, which lifts the primary's whole output document, every nested
        dict and list, into Outputs again on every read (thousands at 200 services, per name)."""
        key = (name, required)
        output = self._outputs_by_name.get(key)
        if output is None:
            value = self.stack_reference.outputs.apply(
                (lambda outputs: outputs[name]) if required else (lambda outputs: outputs.get(name)))
            # Tasks, not bare coroutines: an output nobody reads must not leave a coroutine never awaited.
            output = self._outputs_by_name[key] = pulumi.Output(
                value.resources(), asyncio.ensure_future(value.future()), asyncio.ensure_future(value.is_known()),
                asyncio.ensure_future(self._is_secret(name)))
        return output

    async def _is_secret(self, name: str) -> bool:
        """As the SDK decides it: by the primary's list of secret output names when it is known, else as
        secret as the whole output document."""
        reference = self.stack_reference
        if not await reference.secret_output_names.is_known():
            return await reference.outputs.is_secret()
        names = await reference.secret_output_names.future()
        if names is None:
            return await reference.outputs.is_secret()
        return name in names

    def require_failover_record(self) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        """(hostedZoneId, apiRecordName) for the standby's SECONDARY record; a clear error if the primary has none.

        Call it only when the standby's settings say there is a domain: a primary without one exports neither.
        """
        def required(outputs: PrimaryStackOutputs) -> tuple[str, str]:
            if outputs.hosted_zone_id is None or outputs.api_record_name is None:
                raise PrimaryStackContractError(
                    f"primary stack {self.primary_stack!r} exports no 'hostedZoneId' / 'apiRecordName', but the "
                    "standby needs them for its SECONDARY failover record (is a domain configured for the primary?)")
            return outputs.hosted_zone_id, outputs.api_record_name

        checked = self.outputs.apply(required)
        return checked.apply(lambda pair: pair[0]), checked.apply(lambda pair: pair[1])

    def replica_secret_arns(self, region: str) -> pulumi.Output[dict[str, str]]:
        """`<service>/<secret>` -> ARN of the replica in `region`, which the standby's tasks read."""
        return self.secret_arns.apply(
            lambda arns: {key: replica_secret_arn(arn, region) for key, arn in arns.items()})
