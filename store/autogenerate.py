"""Write a new migration from the difference between the models and the schema.

Usage: `python -m store.autogenerate "add a column"`. It upgrades a scratch SQLite
database to the newest migration and lets Alembic compare it with store.models, so
a developer never hand-writes the routine part of a migration.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command

from store.db import alembic_config, make_engine, upgrade


def main(message: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{Path(scratch) / 'scratch.db'}")
        upgrade(engine)
        command.revision(alembic_config(engine), message=message, autogenerate=True)
        engine.dispose()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m store.autogenerate MESSAGE")
    main(sys.argv[1])
