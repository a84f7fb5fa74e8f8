"""Developer tooling that measures the backend (never deployed)."""
