"""Operator tooling that is never deployed (run from the repository root: `python -m tools.<name>`)."""
