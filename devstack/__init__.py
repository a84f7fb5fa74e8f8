"""The embedded local stack (developer tooling; never deployed)."""
