"""Offline preview records turned into the requests the Pulumi engine sends a policy pack.

Input records are the offline preview's ``--json`` records::

    {"urn", "type", "name", "custom", "parent", "provider": "<provider urn>::<id>" | None,
     "providerRegion", "inputs", "outputs", "dependencies", "propertyDependencies"}

What the engine would send, and so what this module sends:

* Analyze: ``properties`` = the record's inputs (the engine analyzes a resource's new inputs).
* AnalyzeStack: ``properties`` = inputs overlaid with the known outputs (the engine sends the
  resources' outputs, which during a preview are the inputs plus computed values); an output
  still unknown never hides a known input.
* Unknown values stay the string sentinel ``04da6b54-80e4-46f7-96ec-b56ff0331ba9``: that is how
  the engine marshals unknowns with KeepUnknowns, and what pulumi-policy's proxy detects.
* Resource references (``4dabf18193072939515e22adb298388d`` = ``5cf8f730...``) are downgraded to
  their id (custom resources) or URN (components), as the engine does for plugins without
  resource-reference support; pulumi-policy 1.21 cannot deserialize them. Output values are
  unwrapped to their value (or unknown). Secrets pass through (pulumi-policy unwraps them).
* Provider: the provider record named by ``provider`` (type ``pulumi:providers:aws``, inputs
  ``region``/``defaultTags``), else a synthesized aws provider carrying ``providerRegion``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from google.protobuf import json_format, struct_pb2

from devkit.sdk_adapter import analyzer_pb2

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_RESOURCE_REFERENCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_OUTPUT_VALUE_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"


def wire_value(value: Any) -> Any:
    """A record value as the engine would marshal it for an analyzer (see module docstring)."""
    if isinstance(value, Mapping):
        signature = value.get(_SIG_KEY)
        if signature == _RESOURCE_REFERENCE_SIG:
            ref_id = value.get("id")
            if isinstance(ref_id, str) and ref_id:
                return ref_id
            return value.get("urn", UNKNOWN)
        if signature == _OUTPUT_VALUE_SIG:
            return wire_value(value["value"]) if "value" in value else UNKNOWN
        return {str(k): wire_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [wire_value(v) for v in value]
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    return str(value)


def _struct(properties: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    json_format.ParseDict(wire_value(dict(properties)), struct)
    return struct


def stack_properties(record: Mapping[str, Any]) -> dict[str, Any]:
    """What AnalyzeStack sees for a record: inputs overlaid with its known outputs."""
    merged = dict(record.get("inputs") or {})
    for key, value in (record.get("outputs") or {}).items():
        if value == UNKNOWN and merged.get(key) not in (None, UNKNOWN):
            continue
        merged[key] = value
    return merged


def _provider_urn(reference: str | None) -> str | None:
    if not reference:
        return None
    return reference.rsplit("::", 1)[0] if reference.count("::") >= 4 else reference


def _provider_resource(record: Mapping[str, Any],
                       providers: Mapping[str, Mapping[str, Any]]) -> analyzer_pb2.AnalyzerProviderResource | None:
    urn = _provider_urn(record.get("provider"))
    provider_record = providers.get(urn) if urn else None
    if provider_record is not None:
        return analyzer_pb2.AnalyzerProviderResource(
            type=provider_record["type"], urn=provider_record["urn"], name=provider_record.get("name", ""),
            properties=_struct(provider_record.get("inputs") or {}))
    region = record.get("providerRegion")
    if urn is None and region is None:
        return None
    properties = {"region": region} if region else {}
    provider_type = urn.split("::")[2] if urn and urn.count("::") >= 3 else "pulumi:providers:aws"
    return analyzer_pb2.AnalyzerProviderResource(
        type=provider_type, urn=urn or "", name=urn.split("::")[-1] if urn else "default",
        properties=_struct(properties))


def _providers_by_urn(records: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {r["urn"]: r for r in records if str(r.get("type", "")).startswith("pulumi:providers:")}


def _options(record: Mapping[str, Any]) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(parent=record.get("parent") or "")


def analyze_request(record: Mapping[str, Any],
                    providers: Mapping[str, Mapping[str, Any]] | None = None) -> analyzer_pb2.AnalyzeRequest:
    request = analyzer_pb2.AnalyzeRequest(
        type=record["type"], urn=record["urn"], name=record.get("name", ""),
        properties=_struct(record.get("inputs") or {}), options=_options(record))
    provider = _provider_resource(record, providers or {})
    if provider is not None:
        request.provider.CopyFrom(provider)
    return request


def analyze_stack_request(records: Sequence[Mapping[str, Any]]) -> analyzer_pb2.AnalyzeStackRequest:
    providers = _providers_by_urn(records)
    request = analyzer_pb2.AnalyzeStackRequest()
    for record in records:
        resource = analyzer_pb2.AnalyzerResource(
            type=record["type"], urn=record["urn"], name=record.get("name", ""),
            properties=_struct(stack_properties(record)), options=_options(record),
            parent=record.get("parent") or "", dependencies=list(record.get("dependencies") or []))
        provider = _provider_resource(record, providers)
        if provider is not None:
            resource.provider.CopyFrom(provider)
        for prop, urns in (record.get("propertyDependencies") or {}).items():
            resource.propertyDependencies[prop].urns.extend(urns)
        request.resources.append(resource)
    return request
