"""`python -m devkit preview --stack NAME`: run a stack offline, show what it would create, and judge
it with the CrossGuard pack in policies/ the way `pulumi preview --policy-pack policies` does."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from foundation.settings import ConfigError, list_stacks, load_stack
from foundation.settings.base import shortened


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devkit")
    commands = parser.add_subparsers(dest="command", required=True)
    preview = commands.add_parser("preview", help="run a stack's program offline under the mock runtime")
    preview.add_argument("--stack", required=True, help=f"one of: {', '.join(list_stacks())}")
    preview.add_argument("--json", type=Path, metavar="FILE", help="write every registered resource as JSON")
    preview.add_argument("--markdown", type=Path, metavar="FILE", help="write the policy verdicts as Markdown "
                                                                        "(for a pull-request comment)")
    preview.add_argument("--unknowns", action="store_true",
                         help="leave computed outputs unknown, as the first `pulumi preview` of an empty stack "
                              "sees them (policies then work from property dependencies)")
    preview.add_argument("--debug", action="store_true", help="show the traceback of a program error")
    preview.add_argument("--policy-config", type=Path, metavar="FILE",
                         help="policy pack config, as for `pulumi preview --policy-pack-config` "
                              "(levels, knobs, exceptions)")
    options = parser.parse_args(argv)
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
    from devkit.harness import PolicyConfigError, PolicyPackAnalyzer, PolicyPackError
    from devkit.policy_config import check_against_pack, read_policy_config
    from devkit.render import json_document, render_text, resource_counts
    from devkit.run import preview_stack
    from devkit.verdicts import passed, render_markdown
    from devkit.verdicts import render_text as render_verdicts

    def fail(message: str) -> int:
        print(f"error: {message}", file=sys.stderr)
        return 2

    # Everything that can be checked without running the program is checked first.
    try:
        policy_config = read_policy_config(options.policy_config) if options.policy_config else None
        project = load_stack(options.stack).project
        if options.json:
            prepare_output(options.json, "--json")
        if options.markdown:
            prepare_output(options.markdown, "--markdown")
    except (ConfigError, PolicyConfigError, OutputPathError) as error:
        return fail(str(error))

    try:
        with PolicyPackAnalyzer(stack=options.stack, project=project) as pack:
            if policy_config is not None:
                check_against_pack(policy_config, pack.info.policies, options.policy_config)
                pack.configure(policy_config)
            try:
                result = preview_stack(options.stack, unknowns=options.unknowns)
            except ConfigError as error:
                return fail(str(error))
            except Exception as error:  # noqa: BLE001 a program error is reported, not dumped
                if options.debug:
                    raise
                root = root_cause(error)
                return fail(f"the program failed: {type(root).__name__}: {shortened(str(root), 400)} (rerun with "
                            "--debug for the traceback)")
            print(render_text(result))
            if options.json:
                write_output(options.json, "--json", json.dumps(json_document(result), indent=2))
                counts = resource_counts(result.recorder)
                print(f"\nWrote {counts.total} resources to {options.json}")
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
        try:
            write_output(options.markdown, "--markdown",
                         render_markdown(diagnostics, title=f"Policy verdicts for {options.stack}"))
        except OutputPathError as error:
            return fail(str(error))
    return 0 if passed(diagnostics) else 1


if __name__ == "__main__":
    sys.exit(main())
