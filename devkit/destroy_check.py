"""`python -m devkit destroy-check --stack NAME`: may this stack be destroyed now? (docs/lifecycle.md)

A primary cannot go before its standby: the standby's Aurora clusters are secondaries of the primary's
global databases (DeleteGlobalCluster fails while a member is attached, and the primary's cluster cannot
leave a global database that has secondaries), its secret replicas hang on the primary's secrets, and its
certificate validates through the primary's DNS record. `pulumi destroy` of the primary would delete
what it can and stop half way. This check runs first: it finds every standby whose
`failover.primaryStack` names the stack and asks the state backend (`pulumi stack export`) whether that
standby still holds resources. Anything it cannot establish counts as "still deployed".
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from foundation.settings import PROJECT_DIR, list_stacks, load_stack

# Registered by every stack whatever it deploys: nothing AWS holds.
BOOKKEEPING_TYPES = frozenset({"pulumi:pulumi:Stack", "pulumi:pulumi:StackReference"})

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


@dataclass(frozen=True)
class Standby:
    stack: str
    reference: str  # org/project/stack, as `pulumi --stack` takes it


def standbys_of(stack: str, project_dir: Path = PROJECT_DIR) -> list[Standby]:
    """The standbys whose `failover.primaryStack` names `stack`, with their fully qualified names."""
    found = []
    for name in list_stacks(project_dir):
        settings = load_stack(name, project_dir)
        failover = settings.config.failover
        reference = failover.primary_stack if failover is not None else None
        if settings.role == "standby" and reference and reference.rsplit("/", 1)[-1] == stack:
            found.append(Standby(name, f"{reference.rsplit('/', 1)[0]}/{name}"))
    return found


def _run(command: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(command), capture_output=True, text=True, timeout=120, check=False)


def deployed_resources(reference: str, runner: Runner = _run) -> tuple[int | None, str]:
    """How many resources the stack's state holds besides bookkeeping (None: could not tell, and why)."""
    if runner is _run and shutil.which("pulumi") is None:
        return None, "the pulumi CLI is not on PATH"
    result = runner(["pulumi", "stack", "export", "--stack", reference])
    if result.returncode != 0:
        message = (result.stderr or result.stdout).strip().splitlines()
        if any("no stack named" in line.lower() or "not found" in line.lower() for line in message):
            return 0, "the stack does not exist"
        return None, f"`pulumi stack export --stack {reference}` failed: {message[-1] if message else result.returncode}"
    try:
        resources = json.loads(result.stdout).get("deployment", {}).get("resources") or []
    except (json.JSONDecodeError, AttributeError):
        return None, f"`pulumi stack export --stack {reference}` printed no state document"
    live = [r for r in resources if isinstance(r, dict) and r.get("type") not in BOOKKEEPING_TYPES
            and not str(r.get("type", "")).startswith("pulumi:providers:")]
    return len(live), "state export"


def destroy_check(stack: str, project_dir: Path = PROJECT_DIR, runner: Runner = _run) -> tuple[int, str]:
    """(exit status, message): 0 when nothing blocks `pulumi destroy` of `stack`, 2 naming what does."""
    if stack not in list_stacks(project_dir):
        return 2, f"no stack file Pulumi.{stack}.yaml; stacks: {', '.join(list_stacks(project_dir))}"
    blocking = []
    for standby in standbys_of(stack, project_dir):
        count, how = deployed_resources(standby.reference, runner)
        if count is None:
            blocking.append(f"'{standby.stack}' ({standby.reference}): cannot tell whether it is destroyed, {how}")
        elif count:
            blocking.append(f"'{standby.stack}' ({standby.reference}) still holds {count} resources")
    if blocking:
        return 2, (f"stack '{stack}' is the primary of " + "; ".join(blocking) + ". Destroy the standby first "
                   "(its Aurora clusters are secondaries of this stack's global databases and its certificate "
                   "validates through this stack's DNS record), then run this check again (docs/lifecycle.md).")
    protected = load_stack(stack, project_dir).environment == "prod"
    steps = (f"`pulumi state unprotect --all --yes -s {stack}`, then " if protected else "") + f"`pulumi destroy -s {stack}`"
    return 0, f"stack '{stack}': no deployed standby depends on it. Next: {steps}."
