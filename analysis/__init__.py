"""The study's code: datasets, scenarios and models behind the notebooks.

    >>> import analysis
    >>> ds = analysis.load_datasets()          # every table in data/, validated
    >>> sc = analysis.load_scenario()          # data/scenarios/baseline.yaml
    >>> ds.spec("trainium2", "bf16_dense_tflops")

One module per concern: ``datasets`` (tables), ``scenario`` (assumptions), ``units`` (pint),
``summary`` (the data-check report), ``charts`` (Altair for the book), ``cli`` (``python -m analysis``).

The names below are imported on first use (PEP 562), so that ``python -m analysis`` can say how to
get the environment when pandas or pint is missing instead of failing inside this file.
"""
_EXPORTS = {"Datasets": ".datasets", "load_datasets": ".datasets", "StudyInputError": ".errors",
            "StudyInputErrors": ".errors", "Scenario": ".scenario", "load_scenario": ".scenario"}

__all__ = ["Datasets", "Scenario", "StudyInputError", "StudyInputErrors", "load_datasets", "load_scenario"]


def __getattr__(name):
    if name in _EXPORTS:
        import importlib

        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")
