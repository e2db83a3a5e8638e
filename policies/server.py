"""pulumi-policy's analyzer service, converting each request's properties once instead of once per policy.

pulumi-policy 1.x (``_PolicyAnalyzerServicer``) turns the protobuf properties of an Analyze request into
Python (``MessageToDict``, deserialization, the unknown-checking proxy) again for every resource policy,
and every resource of an AnalyzeStack request again for every stack policy. With this pack's 36 resource
policies that conversion, not the checks, was most of the pack's time (docs/scale.md). This subclass does
the same calls in the same order with the same arguments, except that the conversion happens once per
request and the converted objects are shared by the policies. That is safe because no policy of this pack
writes to what it is given (the framework copies properties into plain dicts, see ``framework.py``).

Two more things that do not depend on the resource are done once instead of once per resource:
* which resource policies can judge a resource type: a policy built by ``framework.py`` states its
  ``resource_types`` and returns without a word for any other type, so the service does not build its
  arguments and call it for those (the list per type is kept until the next ``Configure``);
* each policy's config: the library hands every call a fresh copy of it; here every call of a policy gets the
  same copy until the next ``Configure``, so the framework can keep what it derives from it (defaults merged,
  exceptions parsed) instead of deriving it per resource. The framework never writes to the config.

Everything else (enforcement levels, violations, not-applicable reasons, unknown-value diagnostics) is the
library's own code: the loops below are the library's ``Analyze``/``AnalyzeStack`` with the conversion
hoisted. ``tests/policies/test_server.py`` checks that both produce identical responses.
"""

from __future__ import annotations

import asyncio
from inspect import isawaitable
from typing import Any

from google.protobuf import json_format
from pulumi_policy import policy as library
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.policy import (
    EnforcementLevel,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from .values import with_plain

_Base = library._PolicyAnalyzerServicer
proto = library.proto  # the analyzer messages, as pulumi-policy imports them


class SharedConversionServicer(_Base):
    """``_PolicyAnalyzerServicer`` with one conversion per request (see the module docstring)."""

    # The library keeps its state in name-mangled attributes; read them under their mangled names.
    def _policies(self) -> list:
        return self._PolicyAnalyzerServicer__policies  # type: ignore[attr-defined]  # the library's private state

    def Configure(self, request, context):
        self._config_copies: dict[str, Any] = {}
        self._by_type: dict[str, list] = {}
        return super().Configure(request, context)

    def _get_policy_config(self, name: str) -> Any:
        copies = self.__dict__.setdefault("_config_copies", {})
        if name not in copies:
            copies[name] = super()._get_policy_config(name)
        return copies[name]

    def _resource_policies(self, resource_type: str) -> list:
        """The policies Analyze runs for a resource of this type, in the pack's order: every policy but those
        that declare the types they judge (``resource_types``) without this one."""
        by_type = self.__dict__.setdefault("_by_type", {})
        if resource_type not in by_type:
            by_type[resource_type] = [
                policy for policy in self._policies()
                if getattr(policy, "resource_types", None) is None or resource_type in policy.resource_types]
        return by_type[resource_type]

    def _unknown_diagnostic(self, policy: Any, error: UnknownValueError) -> proto.AnalyzeDiagnostic:
        name = self._PolicyAnalyzerServicer__policy_pack_name  # type: ignore[attr-defined]  # the library's private state
        version = self._PolicyAnalyzerServicer__policy_pack_version  # type: ignore[attr-defined]  # the same
        return proto.AnalyzeDiagnostic(
            policyName=policy.name, policyPackName=name, policyPackVersion=version,
            message=f"can't run policy '{policy.name}' from policy pack '{name}@v{version}' during preview: "
                    f"{error.message}",
            urn="", description=policy.description,
            enforcementLevel=self._map_enforcement_level(EnforcementLevel.ADVISORY))

    def _run(self, policy: Any, args: Any, report_violation: Any, response: proto.AnalyzeResponse) -> None:
        try:
            result = policy.validate(args, report_violation)
            if isawaitable(result):
                loop = asyncio.new_event_loop()
                loop.run_until_complete(result)
                loop.close()
        except UnknownValueError as error:
            response.diagnostics.append(self._unknown_diagnostic(policy, error))
        except library._NotApplicableError as error:
            response.not_applicable.append(proto.PolicyNotApplicable(policy_name=policy.name, reason=error.reason or ""))

    def Analyze(self, request, _context):
        self._configure_runtime_settings()
        response = proto.AnalyzeResponse()
        converted: tuple | None = None
        for policy in self._resource_policies(request.type):
            enforcement_level = self._get_enforcement_level(policy)
            if enforcement_level == EnforcementLevel.DISABLED or not isinstance(policy, ResourceValidationPolicy):
                continue
            if not policy.has_validation():
                response.not_applicable.append(proto.PolicyNotApplicable(
                    policy_name=policy.name, reason="Policy does not implement validate"))
                continue
            if enforcement_level == EnforcementLevel.REMEDIATE:
                enforcement_level = EnforcementLevel.MANDATORY
            report_violation = self._create_report_violation(response, policy.name, policy.description,
                                                             enforcement_level, policy.severity)
            if converted is None:
                converted = (_proxied(request.properties), self._get_resource_options(request),
                             self._get_provider_resource(request))
            props, opts, provider = converted
            args = ResourceValidationArgs(request.type, props, request.urn, request.name, opts, provider,
                                          self._get_policy_config(policy.name),
                                          self._PolicyAnalyzerServicer__stack_tags)  # type: ignore[attr-defined]  # the library's private state
            self._run(policy, args, report_violation, response)
        return response

    def AnalyzeStack(self, request, _context):
        self._configure_runtime_settings()
        response = proto.AnalyzeResponse()
        resources: list[PolicyResource] | None = None
        for policy in self._policies():
            enforcement_level = self._get_enforcement_level(policy)
            if enforcement_level == EnforcementLevel.DISABLED or not isinstance(policy, StackValidationPolicy):
                continue
            if enforcement_level == EnforcementLevel.REMEDIATE:
                enforcement_level = EnforcementLevel.MANDATORY
            report_violation = self._create_report_violation(response, policy.name, policy.description,
                                                             enforcement_level, policy.severity)
            if resources is None:
                resources = self._stack_resources(request)
            args = StackValidationArgs(resources, self._get_policy_config(policy.name),
                                       self._PolicyAnalyzerServicer__stack_tags)  # type: ignore[attr-defined]  # the library's private state
            self._run(policy, args, report_violation, response)
        return response

    def _stack_resources(self, request) -> list[PolicyResource]:
        """The request's resources with parents and (property) dependencies linked, as the library builds them."""
        resources, links = [], []
        for r in request.resources:
            resource = PolicyResource(r.type, _proxied(r.properties), r.urn, r.name, self._get_resource_options(r),
                                      self._get_provider_resource(r), None, [], {})
            resources.append(resource)
            links.append((resource, r.parent, list(r.dependencies),
                          {k: list(v.urns) for k, v in r.propertyDependencies.items()}))
        by_urn = {resource.urn: resource for resource in resources}
        for resource, parent, dependencies, property_dependencies in links:
            if parent is not None and parent in by_urn:
                resource.parent = by_urn[parent]
            resource.dependencies.extend(by_urn[d] for d in dependencies if d in by_urn)
            for prop, urns in property_dependencies.items():
                resource.property_dependencies[prop] = [by_urn[d] for d in urns if d in by_urn]
        return resources


def _proxied(properties: Any) -> Any:
    """The library's conversion of a request's properties (deserialized, wrapped in its unknown-checking proxy),
    carrying the plain dict it wraps, so that the framework reads that instead of copying the proxy again."""
    converted = deserialize_properties(_to_dict(properties))
    return with_plain(unknown_checking_proxy(converted), converted)


def _to_dict(message: Any) -> Any:
    """A Struct as plain Python, as ``json_format.MessageToDict`` makes it; that refuses NaN and infinite numbers
    (no JSON for them) and would fail the whole request, so such a Struct is converted value by value and the
    policies answer the hostile number with a "cannot judge" verdict (framework.py)."""
    try:
        return json_format.MessageToDict(message)
    except (ValueError, json_format.Error):
        return _value_of_struct(message)


def _value_of_struct(struct: Any) -> dict[str, Any]:
    return {key: _value_of(value) for key, value in struct.fields.items()}


def _value_of(value: Any) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "struct_value":
        return _value_of_struct(value.struct_value)
    if kind == "list_value":
        return [_value_of(item) for item in value.list_value.values]
    return None if kind in (None, "null_value") else getattr(value, kind)


def install() -> None:
    """Make ``PolicyPack`` serve :class:`SharedConversionServicer` (it looks the class up when it starts)."""
    library._PolicyAnalyzerServicer = SharedConversionServicer  # type: ignore[misc]  # replacing the library's class is the point
