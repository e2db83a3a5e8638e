"""CrossGuard policy pack for the microservices-foundation program.

The modules of this package use relative imports only, so the package works under any name:
tests import it as ``policies`` (with the repository root on ``sys.path``), while
``__main__.py`` loads the pack directory under a private package name when the engine runs
``python -m pulumi.policy <engineAddress> <packDir>``. See README.md, "Layout and imports".
"""
