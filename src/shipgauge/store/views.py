"""Loads the SQL models (`shipgauge/models/[<capability>/]*.sql`) as views, in dependency order.

Each file holds one SELECT in DuckDB dialect; its name is the view's name. A model that
reads another model is created after it; PostgreSQL gets each body transpiled by sqlglot.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from graphlib import CycleError, TopologicalSorter
from importlib import resources
from typing import TYPE_CHECKING

import sqlglot
from sqlglot import exp

from shipgauge.errors import StoreError
from shipgauge.store._sql import quote_ident

if TYPE_CHECKING:
    from shipgauge.store.store import Store

__all__ = ["Model", "discover_models", "load_models", "model_order"]


@dataclass(frozen=True)
class Model:
    """One SQL model: a view named after its file."""

    name: str
    sql: str

    @property
    def description(self) -> str:
        """The first line of the header comment: what the model measures."""
        first = self.sql.splitlines()[0] if self.sql else ""
        return first.removeprefix("--").strip().removeprefix(f"{self.name}:").strip()

    def references(self) -> set[str]:
        """Names of the tables and views the body reads (CTE names excluded)."""
        return set(_references(self.sql))


@lru_cache(maxsize=256)
def _references(sql: str) -> frozenset[str]:
    # Parsed once per process: the lake orders the models several times in one run.
    tree = sqlglot.parse_one(sql, read="duckdb")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    return frozenset({t.name for t in tree.find_all(exp.Table)} - ctes)


def discover_models() -> list[Model]:
    """Every model shipped in the package: `models/*.sql` (shared) and `models/<capability>/*.sql`.

    A view's name is its file's name, so names stay unique across the folders.
    """
    root = resources.files("shipgauge") / "models"
    entries = [e for e in root.iterdir() if e.name.endswith(".sql")]
    entries += [
        e for d in root.iterdir() if d.is_dir() for e in d.iterdir() if e.name.endswith(".sql")
    ]
    models = sorted(
        (
            Model(e.name.removesuffix(".sql"), e.read_text(encoding="utf-8").strip())
            for e in entries
        ),
        key=lambda m: m.name,
    )
    names = [m.name for m in models]
    if len(set(names)) != len(names):
        raise StoreError(
            f"two model files share a name: {sorted(n for n in names if names.count(n) > 1)}"
        )
    return models


def model_order(models: list[Model]) -> list[Model]:
    """Models sorted so that each comes after the models it reads."""
    by_name = {m.name: m for m in models}
    # Sorted predecessors: set order follows PYTHONHASHSEED, and the order is documented.
    graph = {m.name: sorted(m.references() & by_name.keys()) for m in models}
    try:
        return [by_name[n] for n in TopologicalSorter(graph).static_order()]
    except CycleError as exc:
        raise StoreError(f"models read each other in a cycle: {exc.args[1]}") from None


def read_only_outdated(url: str, state: str) -> StoreError:
    """A read-only store that is not current: it can be read once a writable open updated it."""
    return StoreError(
        f"the store {url} is read-only and {state}: let one command open it writable (any "
        "command does, e.g. `shipgauge --db FILE dead-letters list`) before it is made read-only",
        field="db",
    )


def load_models(store: Store) -> int:
    """(Re)create every model view; skipped when the models are unchanged since last time.

    The digest is taken over the raw files, so an unchanged store opens without parsing SQL.
    """
    models = discover_models()
    digest = hashlib.sha256("\n".join(m.name + m.sql for m in models).encode()).hexdigest()
    if store.query("SELECT value FROM store_meta WHERE key = 'models'").scalar() == digest:
        return len(models)
    if store.read_only:
        raise read_only_outdated(store.url, "has the models of another version")
    ordered = model_order(models)
    with store.transaction() as tx:
        tx.execute("SELECT 1")  # opens the transaction on this connection
        tx.lock_schema()
        for model in reversed(ordered):
            tx.execute(f"DROP VIEW IF EXISTS {quote_ident(model.name)} CASCADE")
        for model in ordered:
            body = model.sql.rstrip().rstrip(";")
            try:
                tx.execute(f"CREATE VIEW {quote_ident(model.name)} AS {body}")
            except Exception as exc:  # a broken model must say which file it is
                raise StoreError(f"model {model.name}.sql: {str(exc).splitlines()[0]}") from exc
        tx.upsert("store_meta", [{"key": "models", "value": digest}])
    return len(ordered)
