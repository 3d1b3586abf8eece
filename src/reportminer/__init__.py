"""reportminer: mine German meeting reports for people, places, organisations, dates and themes."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from reportminer.query import Outputs

__version__ = "0.7.0"  # semantic versioning; CHANGELOG.md says what changed


def open(out_dir: str | Path = "outputs") -> Outputs:  # noqa: A001 - like sqlite3.connect/shelve.open
    """Open an output folder written by ``reportminer run`` for read-only queries (see :mod:`reportminer.query`).

    ``reportminer.open("outputs").entities(label="ORG", since="2022-01-01")`` returns a pandas DataFrame.
    The query module (and pandas) load on the first call, so ``import reportminer`` stays light.
    """
    from reportminer.query import Outputs

    return Outputs(out_dir)
