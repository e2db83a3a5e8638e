"""`--policy-config FILE` of the offline preview, checked the way `pulumi preview --policy-pack-config`
checks it: the file before anything runs, then each entry against the running pack's own policy list and
config schemas, before the program runs. A bad file ends in one PolicyConfigError naming the file, the
key and what is allowed.

The harness (devkit.harness.PolicyPackAnalyzer.configure) deliberately stays lenient, so that tests can
send the pack what the Pulumi CLI would not and see the pack's own reaction.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jsonschema

from devkit.harness import LEVELS, PolicyConfigError, PolicyInfo
from foundation.settings.base import shortened, shown_value

ALL_POLICIES = "all"


def _level_problem(level: Any) -> str | None:
    if isinstance(level, str) and level in LEVELS:
        return None
    return f"enforcement level {shown_value(level)} is not allowed; allowed: {', '.join(LEVELS)}"


def read_policy_config(path: Path) -> dict[str, Any]:
    """The config object in `path`: `{"<policy>|all": "<level>" | {"enforcementLevel": ..., <knobs>}}`."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else type(error).__name__
        raise PolicyConfigError(f"{path}: cannot read the policy config: {reason}") from None
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise PolicyConfigError(f"{path}: the policy config is not valid JSON at line {error.lineno}, "
                                f"column {error.colno}: {error.msg}") from None
    except RecursionError:
        raise PolicyConfigError(f"{path}: the policy config is nested too deeply") from None
    if not isinstance(config, dict):
        raise PolicyConfigError(f"{path}: the policy config must be a JSON object of policy names to a level "
                                f"or an object, not {type(config).__name__}")
    for name, entry in config.items():
        if isinstance(entry, Mapping):
            level = entry.get("enforcementLevel")
            problem = _level_problem(level) if "enforcementLevel" in entry else None
        elif isinstance(entry, str):
            problem = _level_problem(entry)
        else:
            problem = (f"= {shown_value(entry)} is not allowed; give a level ({', '.join(LEVELS)}) or an object "
                       "with enforcementLevel and the policy's knobs")
        if problem:
            raise PolicyConfigError(f"{path}: {shown_value(name)}: {problem}")
    return config


def check_against_pack(config: Mapping[str, Any], policies: Sequence[PolicyInfo], path: Path) -> None:
    """Every entry names a policy of the pack (or `all`) and its knobs fit that policy's config schema."""
    by_name = {policy.name: policy for policy in policies}
    for name, entry in config.items():
        if name == ALL_POLICIES:
            if isinstance(entry, Mapping) and set(entry) - {"enforcementLevel"}:
                raise PolicyConfigError(f"{path}: \"all\" takes only enforcementLevel; set knobs per policy")
            continue
        policy = by_name.get(name)
        if policy is None:
            close = difflib.get_close_matches(name, by_name, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise PolicyConfigError(f"{path}: {shown_value(name)} is not a policy of the pack; {hint}the policies are "
                                    "listed in policies/README.md")
        if isinstance(entry, Mapping):
            _check_knobs(name, {k: v for k, v in entry.items() if k != "enforcementLevel"}, policy, path)


def _check_knobs(name: str, knobs: dict[str, Any], policy: PolicyInfo, path: Path) -> None:
    schema = {"type": "object", "properties": policy.config_schema.get("properties", {}),
              "required": policy.config_schema.get("required", []), "additionalProperties": False}
    error = jsonschema.exceptions.best_match(jsonschema.Draft7Validator(schema).iter_errors(knobs))
    if error is None:
        return
    if error.validator == "additionalProperties" and not error.absolute_path:
        unknown = sorted(set(knobs) - set(schema["properties"]))
        allowed = ", ".join(["enforcementLevel", *sorted(schema["properties"])])
        raise PolicyConfigError(f"{path}: {name}.{shortened(unknown[0])} is not a knob of {name}; "
                                f"allowed: {allowed}")
    key = ".".join(str(part) for part in error.absolute_path)
    where = f"{name}.{key}" if key else name
    # jsonschema's message names the rule ("'reason' is a required property", "... is not of type
    # 'integer'"); the value it quotes is cut like every other.
    raise PolicyConfigError(f"{path}: {where} = {shown_value(error.instance)} is not allowed: "
                            f"{shortened(error.message, 160)}")

