"""Run the CrossGuard policy pack over recorded resources exactly as the Pulumi engine does.

The pack runs as the engine starts it: ``<python> -u -m pulumi.policy <engineAddress> <packDir>``;
it prints its gRPC port on stdout and serves the Analyzer service until killed. This module
speaks that protocol (the SDK's ``analyzer_pb2`` stubs, through ``devkit.sdk_adapter``): GetAnalyzerInfo, Configure,
ConfigureStack, Analyze (one resource, its inputs) and AnalyzeStack (all resources, with
parents, dependencies and property dependencies). No Pulumi CLI is needed.

Input records are the offline preview's ``--json`` records::

    {"urn", "type", "name", "custom", "parent", "provider": "<provider urn>::<id>" | None,
     "providerRegion", "inputs", "outputs", "dependencies", "propertyDependencies"}

What the engine would send for each record is built by ``devkit.analyzer_requests``.

Typical use::

    with PolicyPackAnalyzer(exceptions=[{"policy": "no-wildcard-iam", "resource": "*::exec-*",
                                         "reason": "ecr:GetAuthorizationToken needs Resource *"}]) as pack:
        diagnostics = pack.preview(records)       # Analyze per resource + AnalyzeStack
    print(render_text(diagnostics))               # devkit.verdicts
"""

from __future__ import annotations

import os
import re
import selectors
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

import grpc
from google.protobuf import empty_pb2, json_format

from devkit.analyzer_requests import (
    UNKNOWN,
    _providers_by_urn,
    _struct,
    analyze_request,
    analyze_stack_request,
    stack_properties,
    wire_value,
)
from devkit.sdk_adapter import analyzer_pb2, analyzer_pb2_grpc

__all__ = ["LEVELS", "UNKNOWN", "AnalysisResult", "Diagnostic", "NotApplicable", "PackInfo", "PolicyConfigError",
           "PolicyInfo", "PolicyPackAnalyzer", "PolicyPackError", "analyze_request", "analyze_stack",
           "analyze_stack_request", "exceptions_to_config", "stack_properties", "wire_value"]

PROJECT_DIR = Path(__file__).resolve().parents[1]
DEFAULT_PACK_DIR = PROJECT_DIR / "policies"


_LEVEL_NAMES = {
    analyzer_pb2.ADVISORY: "advisory",
    analyzer_pb2.MANDATORY: "mandatory",
    analyzer_pb2.REMEDIATE: "remediate",
    analyzer_pb2.DISABLED: "disabled",
}
_LEVEL_VALUES = {name: value for value, name in _LEVEL_NAMES.items()}
LEVELS = tuple(_LEVEL_VALUES)  # the enforcement levels a policy config may name
_SEVERITY_NAMES = {
    analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED: "unspecified",
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}
ACKNOWLEDGED_PREFIX = "acknowledged: "


class PolicyPackError(RuntimeError):
    """The pack could not be started, or a call to it failed."""


class PolicyConfigError(ValueError):
    """Policy config or exceptions that cannot be sent to the pack (e.g. an unknown policy name)."""


@dataclass(frozen=True)
class Diagnostic:
    """One policy verdict, as the engine receives it."""

    policy_name: str
    policy_pack: str
    policy_pack_version: str
    enforcement_level: str          # "advisory" | "mandatory" | "remediate" | "disabled"
    urn: str                        # "" for a stack-wide verdict
    message: str                    # as the engine shows it: "<description>\n<detail>"
    description: str
    severity: str                   # "low" | "medium" | "high" | "critical" | "unspecified"

    @property
    def detail(self) -> str:
        """The message without the policy description pulumi-policy puts in front of it."""
        prefix = self.description + "\n"
        return self.message[len(prefix):] if self.message.startswith(prefix) else self.message

    @property
    def acknowledged(self) -> bool:
        return self.detail.startswith(ACKNOWLEDGED_PREFIX)

    @property
    def resource_name(self) -> str:
        parts = self.urn.split("::")
        return "::".join(parts[3:]) if len(parts) >= 4 else self.urn

    @property
    def resource_type(self) -> str:
        parts = self.urn.split("::")
        return parts[2].split("$")[-1] if len(parts) >= 4 else ""

    @classmethod
    def from_proto(cls, message: analyzer_pb2.AnalyzeDiagnostic) -> Diagnostic:
        return cls(
            policy_name=message.policyName,
            policy_pack=message.policyPackName,
            policy_pack_version=message.policyPackVersion,
            enforcement_level=_LEVEL_NAMES.get(message.enforcementLevel, str(message.enforcementLevel)),
            urn=message.urn,
            message=message.message,
            description=message.description,
            severity=_SEVERITY_NAMES.get(message.severity, "unspecified"),
        )


@dataclass(frozen=True)
class NotApplicable:
    """A policy that chose not to judge (e.g. a value unknown during preview)."""

    policy_name: str
    reason: str


@dataclass(frozen=True)
class PolicyInfo:
    name: str
    description: str
    enforcement_level: str
    severity: str
    policy_type: str                # "resource" | "stack"
    config_schema: dict[str, Any]
    remediation: str


@dataclass(frozen=True)
class PackInfo:
    name: str
    version: str
    policies: tuple[PolicyInfo, ...]

    def policy(self, name: str) -> PolicyInfo:
        for policy in self.policies:
            if policy.name == name:
                return policy
        raise KeyError(name)


@dataclass
class AnalysisResult:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    not_applicable: list[NotApplicable] = field(default_factory=list)


def exceptions_to_config(exceptions: Sequence[Mapping[str, Any]], policy_names: Iterable[str]) -> dict[str, list]:
    """Distribute the flat exception list ``[{policy, resource, reason}]`` into per-policy config.

    Raises :class:`PolicyConfigError` for entries without a policy or naming no policy of the pack.
    Reason length is deliberately NOT checked here: the pack reports malformed exceptions itself.
    """
    known = set(policy_names)
    per_policy: dict[str, list] = {}
    problems = []
    for index, entry in enumerate(exceptions):
        policy = entry.get("policy") if isinstance(entry, Mapping) else None
        if not isinstance(policy, str) or not policy:
            problems.append(f"exception #{index} {entry!r} has no 'policy'")
        elif policy not in known:
            problems.append(f"exception #{index} names unknown policy '{policy}' (known: {', '.join(sorted(known))})")
        else:
            per_policy.setdefault(policy, []).append(dict(entry))
    if problems:
        raise PolicyConfigError("; ".join(problems))
    return per_policy


# --- the harness -----------------------------------------------------------------------------------

class PolicyPackAnalyzer:
    """A running policy pack. Use as a context manager; the subprocess is killed on exit."""

    def __init__(self, pack_dir: str | os.PathLike = DEFAULT_PACK_DIR, *, python: str = sys.executable,
                 config: Mapping[str, Any] | None = None, exceptions: Sequence[Mapping[str, Any]] | None = None,
                 stack: str = "dev", project: str = "microservices-foundation", organization: str = "organization",
                 stack_tags: Mapping[str, str] | None = None, dry_run: bool = True,
                 startup_timeout: float = 30.0) -> None:
        self.pack_dir = Path(pack_dir)
        self.python = python
        self.startup_timeout = startup_timeout
        self._initial_config = dict(config or {})
        self._initial_exceptions = list(exceptions or [])
        # configure_stack's keyword arguments, replayed when the server (re)starts.
        self._stack: dict[str, Any] = dict(stack=stack, project=project, organization=organization,
                                           tags=dict(stack_tags or {}), dry_run=dry_run)
        self._process: subprocess.Popen | None = None
        self._stderr: IO[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self._stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self.info: PackInfo | None = None
        self.last_not_applicable: list[NotApplicable] = []

    # lifecycle
    def __enter__(self) -> PolicyPackAnalyzer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> None:
        if self._process is not None:
            return
        # Held open for the server's lifetime and closed in stop(): no `with` block can span that.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        env = {k: v for k, v in os.environ.items() if k != "PULUMI_CONFIG"}
        self._process = subprocess.Popen(
            [self.python, "-u", "-m", "pulumi.policy", "127.0.0.1:0", str(self.pack_dir)],
            stdout=subprocess.PIPE, stderr=self._stderr, stdin=subprocess.DEVNULL, env=env)
        try:
            port = self._read_port()
            self._channel = grpc.insecure_channel(f"127.0.0.1:{port}")
            grpc.channel_ready_future(self._channel).result(timeout=self.startup_timeout)
            self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
            self.info = self.get_analyzer_info()
            self.configure(self._initial_config, self._initial_exceptions)
            self.configure_stack(**self._stack)
        except BaseException:
            self.close()
            raise

    def _read_port(self) -> int:
        assert self._process is not None and self._process.stdout is not None
        deadline = time.monotonic() + self.startup_timeout
        line = b""
        # The pack writes "<port>\n" once; poll so a pack that hangs or dies is reported, not waited on.
        with selectors.DefaultSelector() as selector:
            selector.register(self._process.stdout, selectors.EVENT_READ)
            while not line.endswith(b"\n"):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(timeout=remaining):
                    raise PolicyPackError(f"policy pack did not print its port within {self.startup_timeout}s"
                                          f"{self._stderr_tail()}")
                chunk = os.read(self._process.stdout.fileno(), 64)
                if not chunk:
                    raise PolicyPackError(f"policy pack exited with {self._process.wait()} before printing its "
                                          f"port{self._stderr_tail()}")
                line += chunk
        text = line.decode().strip()
        if not text.isdigit():
            raise PolicyPackError(f"policy pack printed {text!r} instead of a port{self._stderr_tail()}")
        return int(text)

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        text = self._stderr.read().decode(errors="replace").strip()
        return f":\n{text[-4000:]}" if text else ""

    def close(self) -> None:
        self._stub = None
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait(timeout=10)
            if self._process.stdout is not None:
                self._process.stdout.close()
            self._process = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    # the engine's calls
    @property
    def stub(self) -> analyzer_pb2_grpc.AnalyzerStub:
        if self._stub is None:
            raise PolicyPackError("the policy pack is not running; use it as a context manager")
        return self._stub

    def _call(self, method: str, request: Any) -> Any:
        try:
            return getattr(self.stub, method)(request, timeout=120)
        except grpc.RpcError as error:
            raise PolicyPackError(f"{method} failed: {error.code().name}: {error.details()}"
                                  f"{self._stderr_tail()}") from None

    def get_analyzer_info(self) -> PackInfo:
        info = self._call("GetAnalyzerInfo", empty_pb2.Empty())
        policies = tuple(PolicyInfo(
            name=p.name, description=p.description,
            enforcement_level=_LEVEL_NAMES.get(p.enforcementLevel, str(p.enforcementLevel)),
            severity=_SEVERITY_NAMES.get(p.severity, "unspecified"),
            policy_type="stack" if p.policy_type == analyzer_pb2.POLICY_TYPE_STACK else "resource",
            config_schema=json_format.MessageToDict(p.configSchema), remediation=p.remediation_steps,
        ) for p in info.policies)
        return PackInfo(info.name, self._declared_version() or info.version, policies)

    def _declared_version(self) -> str | None:
        """The version in PulumiPolicy.yaml, which the CLI uses instead of what Python packs report."""
        manifest = self.pack_dir / "PulumiPolicy.yaml"
        if not manifest.exists():
            return None
        match = re.search(r"^version:\s*['\"]?([^'\"\s]+)", manifest.read_text(encoding="utf-8"), re.M)
        return match.group(1) if match else None

    def get_plugin_info(self) -> str:
        return self._call("GetPluginInfo", empty_pb2.Empty()).version

    def configure(self, config: Mapping[str, Any] | None = None,
                  exceptions: Sequence[Mapping[str, Any]] | None = None) -> None:
        """Send policy config like the CLI does: every policy gets an entry with its enforcement level.

        ``config`` is the ``--policy-pack-config`` shape: ``{"<policy>": "<level>"}`` or
        ``{"<policy>": {"enforcementLevel": ..., <knobs>}}``; ``"all"`` sets every policy's level.
        ``exceptions`` is the flat list ``[{"policy", "resource", "reason"}]``, merged into the
        policies' ``exceptions`` knob. Replaces any earlier configuration.
        """
        assert self.info is not None
        config = dict(config or {})
        names = [p.name for p in self.info.policies]
        unknown = sorted(set(config) - set(names) - {"all"})
        if unknown:
            raise PolicyConfigError(f"config for unknown policies: {', '.join(unknown)}")
        extra_exceptions = exceptions_to_config(exceptions or [], names)
        all_level = config.get("all")
        if isinstance(all_level, Mapping):
            all_level = all_level.get("enforcementLevel")
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for policy in self.info.policies:
            entry = config.get(policy.name)
            properties = dict(entry) if isinstance(entry, Mapping) else {}
            level = properties.pop("enforcementLevel", entry if isinstance(entry, str) else None) \
                or all_level or policy.enforcement_level
            if level not in _LEVEL_VALUES:
                raise PolicyConfigError(f"policy '{policy.name}': unknown enforcement level {level!r}")
            if policy.name in extra_exceptions:
                properties["exceptions"] = list(properties.get("exceptions", [])) + extra_exceptions[policy.name]
            policy_config = analyzer_pb2.PolicyConfig(enforcementLevel=_LEVEL_VALUES[level])
            if properties:
                policy_config.properties.CopyFrom(_struct(properties))
            request.policyConfig[policy.name].CopyFrom(policy_config)
        self._call("Configure", request)

    def configure_stack(self, *, stack: str, project: str, organization: str = "organization",
                        tags: Mapping[str, str] | None = None, dry_run: bool = True,
                        config: Mapping[str, str] | None = None) -> None:
        request = analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=stack, project=project, organization=organization, dry_run=dry_run)
        request.tags.update(dict(tags or {}))
        request.config.update(dict(config or {}))
        self._call("ConfigureStack", request)

    def analyze(self, record: Mapping[str, Any], records: Sequence[Mapping[str, Any]] | None = None) -> list[Diagnostic]:
        """Analyze one resource (its inputs). ``records`` lets the provider record be found."""
        return self.analyze_result(record, records).diagnostics

    def analyze_result(self, record: Mapping[str, Any],
                       records: Sequence[Mapping[str, Any]] | None = None) -> AnalysisResult:
        response = self._call("Analyze", analyze_request(record, _providers_by_urn(records or [record])))
        return self._result(response, resource_urn=record["urn"])

    def analyze_stack(self, records: Sequence[Mapping[str, Any]]) -> list[Diagnostic]:
        """Run the stack policies once over all records (AnalyzeStack only)."""
        return self.analyze_stack_result(records).diagnostics

    def analyze_stack_result(self, records: Sequence[Mapping[str, Any]]) -> AnalysisResult:
        return self._result(self._call("AnalyzeStack", analyze_stack_request(records)))

    def preview(self, records: Sequence[Mapping[str, Any]]) -> list[Diagnostic]:
        """Everything ``pulumi preview --policy-pack`` reports: Analyze for every resource that is
        not a provider, then AnalyzeStack."""
        return self.preview_result(records).diagnostics

    def preview_result(self, records: Sequence[Mapping[str, Any]]) -> AnalysisResult:
        providers = _providers_by_urn(records)
        result = AnalysisResult()
        for record in records:
            if str(record.get("type", "")).startswith("pulumi:providers:"):
                continue
            response = self._call("Analyze", analyze_request(record, providers))
            partial = self._result(response, resource_urn=record["urn"])
            result.diagnostics += partial.diagnostics
            result.not_applicable += partial.not_applicable
        stack = self.analyze_stack_result(records)
        result.diagnostics += stack.diagnostics
        result.not_applicable += stack.not_applicable
        self.last_not_applicable = result.not_applicable
        return result

    def _result(self, response: analyzer_pb2.AnalyzeResponse, resource_urn: str = "") -> AnalysisResult:
        """Typed verdicts. Like the engine, a per-resource (Analyze) verdict without a URN is about
        the analyzed resource, and the pack version is the one PulumiPolicy.yaml declares."""
        version = self.info.version if self.info is not None else None
        diagnostics = []
        for message in response.diagnostics:
            diagnostic = Diagnostic.from_proto(message)
            if resource_urn and not diagnostic.urn:
                diagnostic = replace(diagnostic, urn=resource_urn)
            if version:
                diagnostic = replace(diagnostic, policy_pack_version=version)
            diagnostics.append(diagnostic)
        result = AnalysisResult(diagnostics, [NotApplicable(n.policy_name, n.reason) for n in response.not_applicable])
        self.last_not_applicable = result.not_applicable
        return result


def analyze_stack(records: Sequence[Mapping[str, Any]], *, config: Mapping[str, Any] | None = None,
                  exceptions: Sequence[Mapping[str, Any]] | None = None, stack: str = "dev",
                  pack_dir: str | os.PathLike = DEFAULT_PACK_DIR) -> list[Diagnostic]:
    """One-shot: start the pack, run a full preview analysis (Analyze + AnalyzeStack), stop it."""
    with PolicyPackAnalyzer(pack_dir, config=config, exceptions=exceptions, stack=stack) as pack:
        return pack.preview(records)

