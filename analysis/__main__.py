"""``python -m analysis``: run the command line, or say how to get the environment it needs."""
import sys

#: modules every command needs (pyproject.toml lists all dependencies; these are imported first)
_CORE_MODULES = ("numpy", "pandas", "scipy", "pint", "frictionless", "yaml")


def _missing_environment(name: str) -> int:
    """A short note on stderr when a dependency is not importable: this Python is not the study's
    environment. Exit code 2, like every other input mistake."""
    print(f"error: this Python ({sys.executable}) lacks the study's dependencies (no module named '{name}'); "
          "expected the study's environment: create it once with `make venv`, then activate it "
          "(`source .venv/bin/activate`) or run `.venv/bin/python -m analysis ...`", file=sys.stderr)
    return 2


def _run() -> int:
    import importlib

    for mod in _CORE_MODULES:
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            return _missing_environment(exc.name or mod)
    from .cli import main

    try:
        return main()
    except ModuleNotFoundError as exc:  # an optional-looking dependency (altair, papermill...) is missing
        if exc.name and exc.name.split(".")[0] != "analysis":
            return _missing_environment(exc.name)
        raise


sys.exit(_run())
