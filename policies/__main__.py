"""Entry point the Pulumi engine runs: ``python -u -m pulumi.policy <engineAddress> <packDir>``.

``pulumi.policy`` executes this file with ``runpy.run_path(<packDir>)``: it runs as a script, not
as part of a package, and only ``<packDir>`` is put on ``sys.path``. The pack's modules use
relative imports, so this file loads the pack directory as a package under a private name
(independent of the directory's own name, which differs once the pack is published) and then
starts the analyzer server. ``PolicyPack(...)`` prints the gRPC port and serves until killed; it serves
``server.SharedConversionServicer``, which converts each request's properties once for all policies.
"""

import contextlib
import importlib
import importlib.util
import sys
from pathlib import Path

from pulumi_policy import PolicyPack

_PACKAGE = "_microservices_foundation_policies"


def _load_pack_package():
    if _PACKAGE not in sys.modules:
        pack_dir = Path(__file__).resolve().parent
        spec = importlib.util.spec_from_file_location(
            _PACKAGE, pack_dir / "__init__.py", submodule_search_locations=[str(pack_dir)])
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load the policy pack from {pack_dir}")
        package = importlib.util.module_from_spec(spec)
        sys.modules[_PACKAGE] = package
        spec.loader.exec_module(package)
    return importlib.import_module(f"{_PACKAGE}.pack")


if __name__ == "__main__":
    pack = _load_pack_package()
    importlib.import_module(f"{_PACKAGE}.server").install()
    # Before the first request, what every preview reads once per process: the IAM database the documents of
    # every stack are judged against, and the default price book of the budget policies.
    importlib.import_module(f"{_PACKAGE}.iam_arns").load_iam_database()
    prices = importlib.import_module(f"{_PACKAGE}.cost.prices")
    with contextlib.suppress(prices.PriceFileError):  # a bad price file is the budget policies' verdict to give
        prices.load_prices()
    PolicyPack(
        name=pack.PACK_NAME,
        description=pack.PACK_DESCRIPTION,
        enforcement_level=pack.PACK_ENFORCEMENT_LEVEL,
        policies=pack.build_policies(),
    )
