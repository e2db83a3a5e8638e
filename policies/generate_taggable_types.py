"""Regenerate ``data/taggable_types.txt`` from the installed pulumi-aws SDK.

Run: ``python policies/generate_taggable_types.py`` (needs pulumi_aws installed; the pack
itself does not). The scan reads source text only, because importing every pulumi_aws
submodule costs ~13 s and ~470 MB. A resource type is "taggable" when its ``*Args``
input class declares a ``tags`` property, i.e. the pulumi-aws schema has a ``tags`` input.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

TYPE_TOKEN = re.compile(r'@pulumi\.type_token\("(aws:[^"]+)"\)\s*\nclass (\w+)\(pulumi\.CustomResource\)')
ARGS_CLASS = re.compile(r"^class (\w+)Args:\n(.*?)(?=^class |\Z)", re.M | re.S)
TAGS_INPUT = re.compile(r'^    def tags\(self\)', re.M)

OUTPUT = Path(__file__).resolve().parent / "data" / "taggable_types.txt"


def taggable_types(sdk_root: Path) -> list[str]:
    found: set[str] = set()
    for source_file in sdk_root.rglob("*.py"):
        if source_file.name.startswith("_"):
            continue
        text = source_file.read_text(encoding="utf-8")
        tokens = TYPE_TOKEN.findall(text)
        if not tokens:
            continue
        args_with_tags = {m.group(1) for m in ARGS_CLASS.finditer(text) if TAGS_INPUT.search(m.group(2))}
        for token, class_name in tokens:
            if class_name in args_with_tags:
                found.add(token)
    return sorted(found)


def main() -> int:
    import importlib.util

    spec = importlib.util.find_spec("pulumi_aws")
    if spec is None or spec.origin is None:
        print("pulumi_aws is not installed", file=sys.stderr)
        return 1
    sdk_root = Path(spec.origin).parent
    import json

    version = json.loads((sdk_root / "pulumi-plugin.json").read_text(encoding="utf-8"))["version"]
    types = taggable_types(sdk_root)
    header = f"# Resource types with a `tags` input, scanned from pulumi-aws {version} by generate_taggable_types.py\n"
    OUTPUT.write_text(header + "\n".join(types) + "\n", encoding="utf-8")
    print(f"wrote {len(types)} types to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
