"""`python -m devkit preview --stack NAME`: run a stack offline, show what it would create, and judge
it with the CrossGuard pack in policies/ the way `pulumi preview --policy-pack policies` does."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from foundation.settings import ConfigError, list_stacks, load_stack
from foundation.settings.base import shortened
from policies.cost.prices import PriceFileError


def root_cause(error: BaseException) -> BaseException:
    """The error the program raised, not the SDK's wrapper around it ("While processing input ...")."""
    seen = {id(error)}
    while True:
        nested = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
        # The SDK re-raises with `raise exn from cause`, which can make the chain a cycle.
        if nested is None or id(nested) in seen:
            return error
        seen.add(id(nested))
        error = nested


class _Parser(argparse.ArgumentParser):
    """Bad flags are one line on stderr and exit 2 (argparse would add the whole usage text)."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message} (see --help)\n")


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m devkit")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    preview = commands.add_parser("preview", help="run a stack's program offline under the mock runtime")
    preview.add_argument("--stack", required=True, help=f"one of: {', '.join(list_stacks())}")
    preview.add_argument("--json", type=Path, metavar="FILE", help="write every registered resource as JSON")
    preview.add_argument("--markdown", type=Path, metavar="FILE", help="write the policy verdicts (and the --diff) "
                                                                        "as Markdown (for a pull-request comment)")
    preview.add_argument("--diff", type=Path, metavar="BASE.json",
                         help="show what changes against a base preview of the same stack (its --json output), "
                              "resource by resource, as `pulumi preview` does")
    preview.add_argument("--unknowns", action="store_true",
                         help="leave computed outputs unknown, as the first `pulumi preview` of an empty stack "
                              "sees them (policies then work from property dependencies)")
    preview.add_argument("--debug", action="store_true", help="show the traceback of a program error")
    preview.add_argument("--policy-config", type=Path, metavar="FILE",
                         help="policy pack config, as for `pulumi preview --policy-pack-config` "
                              "(levels, knobs, exceptions)")
    add_new_service_parser(commands)
    destroy = commands.add_parser("destroy-check", help="refuse (exit 2) while a deployed standby depends on the "
                                                        "stack; otherwise print the steps to destroy it")
    destroy.add_argument("--stack", required=True, help=f"one of: {', '.join(list_stacks())}")
    options = parser.parse_args(argv)
    if options.command == "new-service":
        return new_service(options)
    if options.command == "destroy-check":
        return destroy_check(options)
    return _preview(options)


class OutputPathError(Exception):
    """An output file (--json, --markdown) that cannot be written."""


def prepare_output(path: Path, option: str) -> None:
    """Create the folders of an output file up front, so that a bad path fails before the run."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputPathError(f"{option} {path}: cannot create the folder {path.parent}: "
                              f"{error.strerror or type(error).__name__}") from None
    if path.is_dir():
        raise OutputPathError(f"{option} {path}: is a folder; give a file name")
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise OutputPathError(f"{option} {path}: not writable")


def write_output(path: Path, option: str, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise OutputPathError(f"{option} {path}: cannot write: {error.strerror or type(error).__name__}") from None


def _preview(options: argparse.Namespace) -> int:
    from devkit import diff as stack_diff
    from devkit.costs import cost_lines, cost_markdown, stack_estimate
    from devkit.harness import PolicyConfigError, PolicyPackAnalyzer, PolicyPackError
    from devkit.policy_config import check_against_pack, read_policy_config
    from devkit.render import json_text, preview_document, render_text, resource_counts
    from devkit.run import preview_stack
    from devkit.verdicts import passed, render_markdown
    from devkit.verdicts import render_text as render_verdicts
    from foundation import stack as _program  # noqa: F401  (imported before the GC policy freezes imports)
    from foundation.gc_policy import tune_for_registration

    def fail(message: str) -> int:
        print(f"error: {message}", file=sys.stderr)
        return 2

    # Everything that can be checked without running the program is checked first.
    try:
        policy_config = read_policy_config(options.policy_config) if options.policy_config else None
        project = load_stack(options.stack).project
        base = stack_diff.load_base(options.diff, options.stack) if options.diff else None
        if options.json:
            prepare_output(options.json, "--json")
        if options.markdown:
            prepare_output(options.markdown, "--markdown")
    except (ConfigError, PolicyConfigError, OutputPathError, stack_diff.DiffInputError) as error:
        return fail(str(error))

    try:
        with PolicyPackAnalyzer(stack=options.stack, project=project) as pack:
            if policy_config is not None and pack.info is not None:
                check_against_pack(policy_config, pack.info.policies, options.policy_config)
                pack.configure(policy_config)
            try:
                tune_for_registration()  # after the program's imports (foundation.gc_policy)
                result = preview_stack(options.stack, unknowns=options.unknowns)
                cost = stack_estimate(result)
            except (ConfigError, PriceFileError) as error:
                return fail(str(error))
            except Exception as error:
                if options.debug:
                    raise
                root = root_cause(error)
                return fail(f"the program failed: {type(root).__name__}: {shortened(str(root), 400)} (rerun with "
                            "--debug for the traceback)")
            print(render_text(result))
            budget_eur = result.settings.config.budget.watched_eur
            print()
            print("\n".join(cost_lines(cost, budget_eur)))
            document = preview_document(result)
            if options.json:
                write_output(options.json, "--json", json_text(document | {"cost": cost.to_json()}))
                counts = resource_counts(result.recorder)
                print(f"\nWrote {counts.total} resources to {options.json}")
            changes = stack_diff.diff_documents(base, document) if base is not None else None
            if changes is not None:
                print()
                print(stack_diff.render_text(changes, str(options.diff)))
            analysis = pack.preview_result(result.recorder.to_json())
    except (PolicyConfigError, OutputPathError) as error:
        return fail(str(error))
    except PolicyPackError as error:
        return fail(f"policy pack: {error}")
    diagnostics = analysis.diagnostics
    print()
    print(render_verdicts(diagnostics))
    if analysis.not_applicable:
        print(f"{len(analysis.not_applicable)} checks wait for values unknown during preview; "
              "`pulumi up` runs them on the known values.")
    if options.markdown:
        markdown = render_markdown(diagnostics, title=f"Policy verdicts for {options.stack}")
        if changes is not None:
            markdown = stack_diff.render_markdown(changes, options.diff.name) + "\n" + markdown
        try:
            write_output(options.markdown, "--markdown",
                         markdown + "\n" + cost_markdown(cost, budget_eur, options.stack))
        except OutputPathError as error:
            return fail(str(error))
    return 0 if passed(diagnostics) else 1


def destroy_check(options: argparse.Namespace) -> int:
    from devkit.destroy_check import destroy_check as check

    try:
        status, message = check(options.stack)
    except ConfigError as error:
        status, message = 2, str(error)
    print(("error: " if status else "") + message, file=sys.stderr if status else sys.stdout)
    return status


def add_new_service_parser(commands) -> None:
    onboard = commands.add_parser("new-service", help="add a service to the catalog, enable it in a primary stack "
                                                      "and its standby, write its repository scaffold")
    onboard.add_argument("name", help="lowercase service name (it becomes the ECR repository and DNS name)")
    onboard.add_argument("--image", required=True, metavar="TAG",
                         help="image tag or sha256: digest to run first, from ECR <environment>/NAME; the image "
                              "workflow bumps it to each commit SHA afterwards")
    onboard.add_argument("--port", type=int, default=8080, help="container port (default 8080)")
    route = onboard.add_mutually_exclusive_group()
    route.add_argument("--path-prefix", metavar="/api/x", help="ALB path prefix (default /api/NAME)")
    route.add_argument("--internal", action="store_true", help="no ALB route: reachable through Service Connect only")
    onboard.add_argument("--cpu", type=int, default=256, help="application CPU units (default 256)")
    onboard.add_argument("--memory", type=int, default=512, help="application memory in MiB (default 512)")
    onboard.add_argument("--architecture", choices=["ARM64", "X86_64"], default="ARM64")
    onboard.add_argument("--interruptible", action="store_true",
                         help="the service loses nothing when Fargate Spot stops a task on two minutes' notice: it "
                              "runs on the stack's Spot share (otherwise on FARGATE only)")
    onboard.add_argument("--min-tasks", type=int, default=2)
    onboard.add_argument("--max-tasks", type=int, default=4)
    onboard.add_argument("--calls", default="", metavar="a,b", help="services it calls, comma-separated")
    onboard.add_argument("--stacks", default="staging", metavar="S[,S]",
                         help="primary stacks to enable it in (default staging); each one's standby follows")
    onboard.add_argument("--scaffold", type=Path, metavar="DIR", help="write the service repository here")


def new_service(options: argparse.Namespace) -> int:
    from devkit.onboarding import NewService, OnboardingError, onboard

    request = NewService(
        name=options.name, image=options.image, port=options.port, path_prefix=options.path_prefix,
        internal=options.internal, cpu=options.cpu, memory=options.memory, architecture=options.architecture,
        interruptible=options.interruptible, min_tasks=options.min_tasks, max_tasks=options.max_tasks,
        calls=tuple(c.strip() for c in options.calls.split(",") if c.strip()),
        stacks=tuple(s.strip() for s in options.stacks.split(",") if s.strip()) or ("staging",),
        scaffold=options.scaffold)
    try:
        # The cost lines come before anything is written, and before a refusal.
        result = onboard(request, report=lambda line: print(f"Monthly cost {line}", flush=True))
    except (OnboardingError, ConfigError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if result.changed:
        print(f"Onboarded {request.name} (runs in {', '.join(result.stacks)}). Wrote:")
        print("\n".join(f"  {path}" for path in result.changed))
    else:
        print(f"{request.name} is already onboarded as asked; nothing changed.")
    print("\nNext steps:")
    print("\n".join(f"  {number}. {step}" for number, step in enumerate(result.next_steps, 1)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
