"""Write platform/schemas/lock.json, the baseline of what subscribers rely on in each event (docs/events.md,
"Event schemas"). Additions are written freely; a change that removes or retypes a required field of a
detail type somebody subscribes to is written only when named with --accept-breaking (a reviewed decision).

    python scripts/lock_event_schemas.py                                    # after adding fields or schemas
    python scripts/lock_event_schemas.py --check                            # CI: the lock is current
    python scripts/lock_event_schemas.py --accept-breaking upload/UploadCompleted
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from components.events.schemas import LOCK_FILE, breaking_changes, lock_document
from foundation.settings import ConfigError
from foundation.settings.catalog import CATALOG_FILE
from foundation.settings.event_schemas import read_lock, read_schemas, schemas_dir
from foundation.settings.yaml_files import load_yaml


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the lock is not what the schemas give")
    parser.add_argument("--accept-breaking", action="append", default=[], metavar="SOURCE/DetailType")
    parser.add_argument("--catalog", type=Path, default=CATALOG_FILE)
    args = parser.parse_args(argv)
    directory = schemas_dir(args.catalog)
    try:
        schemas, lock = read_schemas(directory), read_lock(directory)
        services = (load_yaml(args.catalog, "the service catalog").get("services") or {})
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    subscribed = {f"{s.get('source')}/{t}" for entry in services.values() for s in (entry or {}).get("subscribes", [])
                  for t in s.get("detailTypes", [])}
    refused = [f"{key}: {change}" for key, schema in
               ((f"{source}/{detail_type}", schema) for (source, detail_type), schema in schemas.items())
               if key in subscribed and key in lock and key not in args.accept_breaking
               for change in breaking_changes(lock[key], schema)]
    if refused:
        print("subscribers rely on what these changes take away (name the detail type with --accept-breaking "
              "once its subscribers have moved):\n  " + "\n  ".join(refused), file=sys.stderr)
        return 1
    document = lock_document(schemas)
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    path = directory / LOCK_FILE
    if args.check:
        current = path.read_text() if path.exists() else ""
        if current != text:
            print(f"{path} is not current: run python scripts/lock_event_schemas.py", file=sys.stderr)
            return 1
        print(f"{path}: {len(document)} detail types, current")
        return 0
    path.write_text(text)
    print(f"wrote {path}: {len(document)} detail types")
    return 0


if __name__ == "__main__":
    sys.exit(main())
