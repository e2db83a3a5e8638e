"""How a row of the permission table names its calls: which action, on which resource, in which region,
with which extra condition keys, and when (only if an input is set)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Operation = Literal["create", "read", "update", "delete"]
OPERATIONS: tuple[Operation, ...] = ("create", "read", "update", "delete")


@dataclass(frozen=True)
class Call:
    """One or more IAM actions the provider's call (or AWS on the caller's behalf) needs.

    target: "self" (the resource), "ref:<input path>" (the resource an input names: a key, a role, a
    table), "arn:<template>" ({account}, {region}, {partition} and `{input path}` filled in), or "*".
    region: None (the resource's region) or "input:<path>" (each region an input names, e.g. replicas).
    """

    actions: tuple[str, ...]
    target: str = "self"
    region: str | None = None
    context: Mapping[str, str] = field(default_factory=dict)
    when: str | None = None  # input path that must be set (truthy) for the call to happen
    note: str = ""  # why, and where that is documented, when it is not the provider's own API call


def on(*actions: str, when: str | None = None, note: str = "") -> Call:
    return Call(actions, when=when, note=note)


def ref(path: str, *actions: str, when: str | None = None, note: str = "",
        context: Mapping[str, str] | None = None) -> Call:
    return Call(actions, target=f"ref:{path}", when=when or path.split(">")[0], note=note, context=context or {})


def in_regions(path: str, *actions: str, target: str = "self", note: str = "") -> Call:
    return Call(actions, target=target, region=f"input:{path}", when=path, note=note)


def pass_role(path: str, service: str) -> Call:
    return Call(("iam:PassRole",), target=f"ref:{path}", when=path, context={"iam:PassedToService": service},
                note=f"the role is handed to {service}")


def service_linked_role(service: str, role: str, note: str = "") -> Call:
    """First use of a service in an account creates its service-linked role with the caller's rights."""
    return Call(("iam:CreateServiceLinkedRole",), target=f"arn:arn:aws:iam::{{account}}:role/aws-service-role/"
                f"{service}/{role}", context={"iam:AWSServiceName": service},
                note=note or f"first use in an account creates {role} (IAM User Guide, "
                "using-service-linked-roles.html, 'services that work with IAM')")


def customer_key(via: str, path: str, *actions: str, note: str, when: str | None = None) -> Call:
    """The service `via` uses the caller's permissions on a customer managed key (a grant, data keys);
    the request carries kms:ViaService (KMS developer guide, conditions-kms.html#conditions-kms-via-service)."""
    return Call(actions, target=f"ref:{path}", when=when or path.split(">")[0], note=note,
                context={"kms:ViaService": f"{via}.{{region}}.amazonaws.com"})


@dataclass(frozen=True)
class TypeRows:
    """Every operation of one resource type; `source` is where the provider's calls are read from."""

    type: str
    source: str
    create: tuple[Call, ...] = ()
    read: tuple[Call, ...] = ()
    update: tuple[Call, ...] = ()
    delete: tuple[Call, ...] = ()
    tagged: bool = True  # the resource carries the provider's default tags
    self_arn: str | None = None  # template when the ARN IAM authorizes is not the `arn` output
    region_input: bool = False  # the resource's `region` input sets its region (per-resource region)

    def calls(self, operation: Operation) -> tuple[Call, ...]:
        return {"create": self.create, "read": self.read, "update": self.update, "delete": self.delete}[operation]


def rows(type_: str, source: str, *, create: tuple[Call | str, ...] = (), read: tuple[Call | str, ...] = (),
         update: tuple[Call | str, ...] = (), delete: tuple[Call | str, ...] = (), tagged: bool = True,
         self_arn: str | None = None) -> TypeRows:
    def calls(items: tuple[Call | str, ...]) -> tuple[Call, ...]:
        return tuple(Call((item,)) if isinstance(item, str) else item for item in items)
    return TypeRows(type_, source, calls(create), calls(read), calls(update), calls(delete), tagged, self_arn)
