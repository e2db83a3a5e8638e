"""Offline tooling for the program and the policy pack: the mock runtime, the engine-protocol harness
that drives the pack, the preview renderers and the `python -m devkit` CLI. Nothing the program
(`__main__.py`, foundation/, components/) or the pack (policies/) imports at deploy time lives here."""
