"""`python -m devkit preview --stack NAME`: run a stack offline, show what it would create, and judge
it with the CrossGuard pack in policies/ the way `pulumi preview --policy-pack policies` does."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from foundation.settings import ConfigError, list_stacks
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

    from devkit.harness import PolicyConfigError, PolicyPackAnalyzer, PolicyPackError
    from devkit.costs import cost_lines, cost_markdown, stack_estimate
    from devkit.render import render_text, write_json
    from devkit.run import preview_stack
    from devkit.verdicts import passed, render_markdown
    from devkit.verdicts import render_text as render_verdicts

    try:
        policy_config = json.loads(options.policy_config.read_text()) if options.policy_config else None
        result = preview_stack(options.stack, unknowns=options.unknowns)
        cost = stack_estimate(result)
    except (ConfigError, PriceFileError, OSError, json.JSONDecodeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # noqa: BLE001 a program error is reported, not dumped
        if options.debug:
            raise
        root = root_cause(error)
        print(f"error: the program failed: {type(root).__name__}: {root} (rerun with --debug for the "
              "traceback)", file=sys.stderr)
        return 2
    print(render_text(result))
    budget_eur = result.settings.config.budget.monthly_eur
    print()
    print("\n".join(cost_lines(cost, budget_eur)))
    if options.json:
        write_json(result, options.json, cost=cost.to_json())
        print(f"\nWrote {len(result.recorder.resources)} resources to {options.json}")

    try:
        with PolicyPackAnalyzer(stack=options.stack, project=result.settings.project,
                                config=policy_config) as pack:
            analysis = pack.preview_result(result.recorder.to_json())
        diagnostics = analysis.diagnostics
    except (PolicyConfigError, PolicyPackError) as error:
        print(f"error: policy pack: {error}", file=sys.stderr)
        return 2
    print()
    print(render_verdicts(diagnostics))
    if analysis.not_applicable:
        print(f"{len(analysis.not_applicable)} checks wait for values unknown during preview; "
              "`pulumi up` runs them on the known values.")
    if options.markdown:
        options.markdown.write_text(render_markdown(diagnostics, title=f"Policy verdicts for {options.stack}")
                                    + "\n" + cost_markdown(cost, budget_eur, options.stack))
    return 0 if passed(diagnostics) else 1


if __name__ == "__main__":
    sys.exit(main())
