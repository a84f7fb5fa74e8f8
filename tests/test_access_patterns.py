"""The access-pattern table in chalicelib/repository/__init__.py lists every repository function."""

import importlib
import inspect
import pkgutil
import re

import chalicelib.repository as repository

# Not access patterns: the client, (de)serialisation and the transaction helper every module uses.
INFRASTRUCTURE = {"dynamo"}


def public_functions() -> set[str]:
    found = set()
    for info in pkgutil.iter_modules(repository.__path__):
        if info.name in INFRASTRUCTURE:
            continue
        module = importlib.import_module(f"chalicelib.repository.{info.name}")
        for name, value in vars(module).items():
            if (inspect.isfunction(value) and value.__module__ == module.__name__ and not name.startswith("_")
                    and not name.endswith("_key")):
                found.add(f"{info.name}.{name}")
    return found


def test_every_public_repository_function_appears_in_the_access_pattern_table():
    listed = set(re.findall(r"\b([a-z_]+\.[a-z_]+)\b", repository.__doc__ or ""))
    assert public_functions(), "no repository functions found"
    missing = sorted(public_functions() - listed)
    assert not missing, f"add these to the access-pattern table in chalicelib/repository/__init__.py: {missing}"


def test_the_table_names_no_function_that_does_not_exist():
    rows = [line.rsplit("|", 2)[-2] for line in (repository.__doc__ or "").splitlines() if line.startswith("|")]
    named = {name for row in rows for name in re.findall(r"\b([a-z_]+\.[a-z_]+)\b", row)}
    stale = sorted(name for name in named if name not in public_functions())
    assert not stale, f"the access-pattern table names functions that do not exist: {stale}"
