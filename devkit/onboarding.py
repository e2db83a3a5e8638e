"""`python -m devkit new-service NAME`: add a service to the catalog, enable it in a primary stack and its
standby, and write the service repository's scaffold from templates/service/.

Nothing is written unless the whole result validates: the edited catalog and stack files are written to
a scratch copy of the project first and read back through foundation.settings (catalog, every stack's
settings, the cross-stack rules), exactly as `pulumi up` would read them. The YAML files are edited with
ruamel.yaml's round-trip mode, so comments, key order, flow/block style and quoting stay as they were.

Running the same command twice changes nothing; a name that exists with a different entry is refused.
"""

from __future__ import annotations

import io
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from components.core.validation import service_name_problem
from devkit.onboarding_costs import CostsOf, CostVerdict, budget_refusal, stack_costs
from foundation.settings import (
    PROJECT_DIR,
    ConfigError,
    check_across_stacks,
    list_stacks,
    load_catalog,
    read_project_defaults,
    read_stack_file,
    settings_from_config,
)
from foundation.settings.yaml_files import load_yaml

CATALOG = Path("platform") / "services.yaml"
TEMPLATE_DIR = PROJECT_DIR / "templates" / "service"
# Existing routed services are 100 apart so that a rule can later be slotted between two of them.
PRIORITY_STEP = 100
# The values the service's image workflow needs from the catalog and the stack (templates/service).
WORKFLOW = Path(".github") / "workflows" / "image.yml"
TEMPLATE_SERVICE = "example"
_ENV_LINE = re.compile(r"^(?P<indent>[ ]{2})(?P<key>[A-Z][A-Z0-9_]*):[ ]*(?P<value>[^#\n]*?)(?P<comment>[ ]+#[^\n]*)?\r?\n?$")


class OnboardingError(Exception):
    """The request cannot be applied; the message names the file or flag, the value and what is allowed."""


@dataclass(frozen=True)
class NewService:
    """What `new-service` was asked for; unset sizes and routes take the catalog's usual values."""

    name: str
    image: str
    port: int = 8080
    path_prefix: str | None = None      # default /api/<name>; ignored when internal
    internal: bool = False
    cpu: int = 256
    memory: int = 512
    architecture: str = "ARM64"
    interruptible: bool = False         # runs on the stack's Spot share (platform/services.yaml)
    min_tasks: int = 2
    max_tasks: int = 4
    calls: tuple[str, ...] = ()
    stacks: tuple[str, ...] = ("staging",)
    scaffold: Path | None = None


@dataclass
class OnboardingResult:
    changed: list[Path] = field(default_factory=list)     # files written (empty when already onboarded)
    stacks: list[str] = field(default_factory=list)       # primaries and standbys that run the service
    scaffold_files: list[Path] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)
    costs: list[CostVerdict] = field(default_factory=list)  # per target stack, before anything was written


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _dump(document: Any) -> str:
    buffer = io.StringIO()
    _yaml().dump(document, buffer)
    return buffer.getvalue()


def _flow(items: list[Any]) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def catalog_entry(request: NewService, priority: int | None) -> CommentedMap:
    """The catalog entry, keys in the order the existing entries use."""
    entry = CommentedMap()
    entry["port"] = request.port
    if not request.internal:
        entry["pathPrefix"] = request.path_prefix or f"/api/{request.name}"
    entry["healthPath"] = "/health"
    entry["cpu"] = request.cpu
    entry["memory"] = request.memory
    entry["architecture"] = request.architecture
    if request.interruptible:
        entry["interruptible"] = True
    entry["minTasks"] = request.min_tasks
    entry["maxTasks"] = request.max_tasks
    if not request.internal:
        entry["listenerRulePriority"] = priority
    entry["calls"] = _flow(list(request.calls))
    entry["secrets"] = _flow([])
    return entry


def next_priority(services: dict[str, Any], excluding: str) -> int:
    used = [int(s["listenerRulePriority"]) for name, s in services.items()
            if name != excluding and isinstance(s, dict) and s.get("listenerRulePriority") is not None]
    return (max(used, default=0) // PRIORITY_STEP + 1) * PRIORITY_STEP


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _config_key(project: str, key: str) -> str:
    return f"{project}:{key}"


def _standbys_of(primary: str, documents: dict[str, Any], project: str) -> list[str]:
    found = []
    for stack, document in documents.items():
        failover = (document.get("config") or {}).get(_config_key(project, "failover")) or {}
        if str(failover.get("primaryStack", "")).rsplit("/", 1)[-1] == primary:
            found.append(stack)
    return sorted(found)


def _role(document: Any, project: str) -> str | None:
    return (document.get("config") or {}).get(_config_key(project, "role"))


def _enable(document: Any, stack: str, request: NewService, project: str) -> None:
    """Add the service to `services.enabled` and give it an image override, in the file's own style."""
    config = document.get("config")
    services = config.get(_config_key(project, "services")) if config is not None else None
    if services is None or services.get("enabled") is None:
        raise OnboardingError(f"Pulumi.{stack}.yaml: key {project}:services.enabled is missing; "
                              "the stack must list the services it runs")
    enabled = services["enabled"]
    if request.name not in enabled:
        enabled.append(request.name)
    overrides = services.get("overrides")
    if overrides is None:
        overrides = services["overrides"] = CommentedMap()
    existing = overrides.get(request.name)
    if existing is not None:
        if str(existing.get("image")) != request.image:
            raise OnboardingError(f"Pulumi.{stack}.yaml: {project}:services.overrides.{request.name}.image is "
                                  f"{existing.get('image')!r}, not {request.image!r}; the service is already "
                                  "enabled there with another image")
        return
    override = CommentedMap({"image": DoubleQuotedScalarString(request.image)})
    siblings = [v for v in overrides.values() if isinstance(v, CommentedMap)]
    if siblings and all(s.fa.flow_style() for s in siblings):
        override.fa.set_flow_style()
    overrides[request.name] = override


def plan(request: NewService, project_dir: Path = PROJECT_DIR) -> tuple[dict[Path, str], list[str]]:
    """The new text of every file to change (unchanged files left out) and the stacks that run the service.
    Raises OnboardingError for a request that cannot be applied as asked."""
    problem = service_name_problem(request.name)
    if problem:
        raise OnboardingError(f"NAME '{request.name}': {problem}")
    project, _ = _read(lambda: read_project_defaults(project_dir))
    yaml = _yaml()
    catalog_path = project_dir / CATALOG
    catalog_text = catalog_path.read_text(encoding="utf-8")
    catalog = yaml.load(catalog_text)
    services = catalog.get("services") if isinstance(catalog, dict) else None
    if not isinstance(services, dict):
        raise OnboardingError(f"{CATALOG}: key 'services' is missing; it must map service names to entries")
    priority = None if request.internal else next_priority(services, excluding=request.name)
    entry = catalog_entry(request, priority)
    if request.name in services:
        if _plain(services[request.name]) != _plain(entry):
            raise OnboardingError(f"{CATALOG}: service '{request.name}' already exists with a different entry; "
                                  "choose another name, or edit the entry by hand")
    else:
        services[request.name] = entry

    stacks = list_stacks(project_dir)
    texts = {s: (project_dir / f"Pulumi.{s}.yaml").read_text(encoding="utf-8") for s in stacks}
    # Finding primaries and standbys needs values only; round-trip parsing is kept for the files edited.
    plain = {s: _read(lambda s=s: load_yaml(project_dir / f"Pulumi.{s}.yaml", "the stack file")) or {}
             for s in stacks}
    targets: list[str] = []
    for primary in request.stacks:
        if primary not in plain:
            raise OnboardingError(f"--stacks: no stack '{primary}' (stacks: {', '.join(stacks)})")
        if _role(plain[primary], project) != "primary":
            raise OnboardingError(f"--stacks: '{primary}' is not a primary stack; name the primary, its standby "
                                  "follows it")
        targets += [primary, *_standbys_of(primary, plain, project)]
    changed = {}
    for stack in targets:
        document = yaml.load(texts[stack])
        _enable(document, stack, request, project)
        changed[project_dir / f"Pulumi.{stack}.yaml"] = _dump(document)
    changed[catalog_path] = _dump(catalog)
    originals = {catalog_path: catalog_text} | {project_dir / f"Pulumi.{s}.yaml": texts[s] for s in stacks}
    changed = {path: text for path, text in changed.items() if text != originals[path]}
    return changed, targets


def _read(call):
    try:
        return call()
    except ConfigError as error:
        raise OnboardingError(str(error)) from None


def _scratch_copy(root: Path, changed: dict[Path, str], project_dir: Path) -> Path:
    """The project's config files in `root`, with the planned edits applied."""
    (root / CATALOG.parent).mkdir(parents=True)
    # The whole platform/ folder: the preview that prices the stacks reads prices.yaml and quotas.yaml too.
    for path in [project_dir / "Pulumi.yaml", *sorted((project_dir / CATALOG.parent).glob("*.yaml")),
                 *(project_dir / f"Pulumi.{s}.yaml" for s in list_stacks(project_dir))]:
        shutil.copy(path, root / path.relative_to(project_dir))
    # The event schemas beside the catalog: load_catalog checks the subscriptions against them.
    schemas = project_dir / CATALOG.parent / "schemas"
    if schemas.is_dir():
        shutil.copytree(schemas, root / CATALOG.parent / "schemas")
    for path, text in changed.items():
        (root / path.relative_to(project_dir)).write_text(text, encoding="utf-8")
    return root


def validate(changed: dict[Path, str], targets: list[str], project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    """Read the edited project back as the program will: the catalog, the settings of each stack that now
    runs the service, and the
    rules across stacks as the stacks that now run the service see them (those rules are symmetric or
    are checked from the standby, which is a target too). Works on a scratch copy; returns the targets'
    settings."""
    with tempfile.TemporaryDirectory(prefix="new-service-") as scratch:
        root = _scratch_copy(Path(scratch), changed, project_dir)
        catalog = _read(lambda: load_catalog(root / CATALOG))
        project, _ = _read(lambda: read_project_defaults(root))
        settings = {}
        # Other stacks do not run the service, and a catalog entry only matters to stacks that enable it.
        for stack in targets:
            stack_file = _read(lambda stack=stack: read_stack_file(stack, root))
            settings[stack] = _read(lambda stack=stack, stack_file=stack_file: settings_from_config(
                stack, stack_file.config, catalog, stack_file.secret_keys, project))
        for stack in targets:
            _read(lambda stack=stack: check_across_stacks(settings[stack], root))
        return settings


def cost_verdicts(changed: dict[Path, str], settings: dict[str, Any], project_dir: Path,
                  costs_of: CostsOf = stack_costs) -> list[CostVerdict]:
    """Each target stack's estimate without and with the service (the edited files in a scratch copy)."""
    targets = list(settings)
    try:
        before = costs_of(project_dir, targets)
        with tempfile.TemporaryDirectory(prefix="new-service-cost-") as scratch:
            root = _scratch_copy(Path(scratch), changed, project_dir)
            after = costs_of(root, targets)
    except (ConfigError, OnboardingError):
        raise
    except Exception as error:  # the program itself failed under the offline preview
        raise OnboardingError(f"the cost of {', '.join(targets)} cannot be estimated: {type(error).__name__}: "
                              f"{str(error)[:300]}; nothing was written") from None
    verdicts = []
    for stack in targets:
        budget = settings[stack].config.budget
        approved = budget.approval.amount_eur if budget.approval is not None else None
        verdicts.append(CostVerdict(stack, before[stack], after[stack], budget.monthly_eur, approved))
    return verdicts


def workflow_targets(request: NewService, settings: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The repositories the image workflow pushes to (one per environment that runs the service: a
    staging-only service has no prod repository) and the stack files its bump edits (the first named
    primary and its standby, which must run the same image)."""
    repositories = sorted({settings[stack].repository_name(request.name) for stack in request.stacks})
    first = request.stacks[0]
    followers = [s for s, each in settings.items()
                 if each.role == "standby" and each.config.failover.primary_stack.rsplit("/", 1)[-1] == first]
    return repositories, [f"Pulumi.{s}.yaml" for s in [first, *sorted(followers)]]


def scaffold_files(request: NewService, template_dir: Path, repositories: list[str] | None = None,
                   stack_files: list[str] | None = None) -> dict[Path, bytes]:
    """The service repository: the template, with its image workflow's top-level `env:` filled in from the
    catalog entry and the stacks (SERVICE, PATH_PREFIX, ARCHITECTURE, ECR_REPOSITORIES, STACK_FILES set;
    the template's service name `example` in the other values becomes NAME)."""
    if not template_dir.is_dir():
        raise OnboardingError(f"--scaffold: the service template {template_dir} does not exist")
    files = {path.relative_to(template_dir): path.read_bytes()
             for path in sorted(template_dir.rglob("*")) if path.is_file() and "__pycache__" not in path.parts}
    if WORKFLOW not in files:
        raise OnboardingError(f"--scaffold: the template has no {WORKFLOW}; it is where the image pipeline "
                              "learns the service's catalog entry")
    values = {"SERVICE": request.name, "ARCHITECTURE": request.architecture,
              "PATH_PREFIX": '""' if request.internal else (request.path_prefix or f"/api/{request.name}")}
    if repositories is not None:
        values["ECR_REPOSITORIES"] = " ".join(repositories)
    if stack_files is not None:
        values["STACK_FILES"] = " ".join(stack_files)
    lines = files[WORKFLOW].decode("utf-8").splitlines(keepends=True)
    found: set[str] = set()
    in_env = False
    for index, line in enumerate(lines):
        if not line.startswith((" ", "#", "\n")):
            in_env = line.rstrip() == "env:"
            continue
        match = _ENV_LINE.fullmatch(line) if in_env else None
        if match is None:
            continue
        key, value = match["key"], values.get(match["key"])
        found.add(key)
        if value is None:
            value = re.sub(rf"\b{TEMPLATE_SERVICE}\b", request.name, match["value"])
        lines[index] = f"{match['indent']}{key}: {value}{match['comment'] or ''}\n"
    missing = sorted(set(values) - found)
    if missing:
        raise OnboardingError(f"--scaffold: {template_dir / WORKFLOW}: the top-level env has no {', '.join(missing)}; "
                              "the onboarding fills them in from the catalog entry")
    files[WORKFLOW] = "".join(lines).encode("utf-8")
    return files


def onboard(request: NewService, project_dir: Path = PROJECT_DIR, template_dir: Path = TEMPLATE_DIR,
            report: Callable[[str], None] = lambda line: None, costs_of: CostsOf = stack_costs) -> OnboardingResult:
    """Validate everything and judge the cost, then write. Raises OnboardingError before writing anything.
    `report` receives the cost lines (the CLI prints them) before anything is written."""
    changed, targets = plan(request, project_dir)
    settings = validate(changed, targets, project_dir)
    primary = settings[request.stacks[0]]
    result = OnboardingResult(stacks=targets)
    if changed:
        result.costs = cost_verdicts(changed, settings, project_dir, costs_of)
        for verdict in result.costs:
            report(verdict.line())
        refusal = budget_refusal(request.name, result.costs)
        if refusal:
            raise OnboardingError(refusal)
    files: dict[Path, bytes] = {}
    if request.scaffold is not None:
        files = scaffold_files(request, template_dir, *workflow_targets(request, settings))
        for relative, content in files.items():
            target = request.scaffold / relative
            if target.exists() and target.read_bytes() != content:
                raise OnboardingError(f"--scaffold: {target} exists with other content; choose an empty "
                                      "directory")
    for path, text in changed.items():
        path.write_text(text, encoding="utf-8")
        result.changed.append(path)
    for relative, content in files.items():
        target = (request.scaffold or project_dir) / relative  # files is empty without a scaffold
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            result.changed.append(target)
        result.scaffold_files.append(target)
    result.next_steps = next_steps(request, primary.repository_name(request.name), targets)
    return result


def next_steps(request: NewService, repository: str, stacks: list[str]) -> list[str]:
    route = "internal only (Service Connect)" if request.internal else (request.path_prefix or f"/api/{request.name}")
    steps = [f"Review: `python -m devkit preview --stack {s}` shows the new service ({route})." for s in stacks[:1]]
    steps.append(f"Open a pull request with {CATALOG} and {', '.join(f'Pulumi.{s}.yaml' for s in stacks)}; "
                 "its comment shows the diff and the policy verdicts per stack.")
    steps.append(f"After merge, `pulumi up` creates the ECR repository {repository} and the service; its tasks "
                 f"start once the image {repository}:{request.image} exists there.")
    if request.scaffold is not None:
        steps.append(f"Push {request.scaffold} as the service's repository and set what its README lists "
                     "(AWS_IMAGE_PUSH_ROLE_ARN, PLATFORM_BOT_CLIENT_ID, PLATFORM_BOT_PRIVATE_KEY); every push "
                     f"to main builds, scans and pushes {repository}:<commit SHA> and opens the pull request "
                     "that rolls it out to staging.")
    if request.calls:
        steps.append(f"Calls {', '.join(request.calls)} through Service Connect: http://<name>:<port> as in "
                     "docs/mesh-service.md.")
    return steps
