"""Where things are: the repository, its data and the seed articles."""
from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: Environment variable naming another data folder (a copy of data/ with your own rows) to run on.
DATA_DIR_ENV = "STUDY_DATA_DIR"


def data_dir() -> Path:
    """The data folder: $STUDY_DATA_DIR if set (read at each call), else data/ in the repository."""
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env) if env else REPO / "data"


DATA_DIR = data_dir()  # scenarios and rebuild specs are read from here (fixed at import)
SCENARIO_DIR = DATA_DIR / "scenarios"
BASELINE_SCENARIO = SCENARIO_DIR / "baseline.yaml"
NOTEBOOK_DIR = REPO / "notebooks"
BOOK_DIR = REPO / "book"


def seeds_dir() -> Path | None:
    """The seed articles: $SEEDS_DIR if set, else ../shared/seeds beside the repository, else None."""
    env = os.environ.get("SEEDS_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "seeds")
    for c in candidates:
        if c.is_dir():
            return c
    return None


def rel(path: Path | str) -> str:
    """Path as shown in messages: relative to the repository when inside it."""
    p = Path(path).resolve()
    try:
        return str(p.relative_to(REPO))
    except ValueError:
        return str(path)
