"""The store: schema and migrations, idempotent writes, checkpoints, dead letters, export."""

from shipgauge.store._sql import in_text_list
from shipgauge.store.engines import ENGINE_ERRORS, is_postgres_url
from shipgauge.store.store import (
    DELIVERY_TURN,
    KeyConflict,
    QueryResult,
    Row,
    Store,
    Transaction,
    dead_letter_id,
)

__all__ = [
    "DELIVERY_TURN",
    "ENGINE_ERRORS",
    "KeyConflict",
    "QueryResult",
    "Row",
    "Store",
    "Transaction",
    "dead_letter_id",
    "in_text_list",
    "is_postgres_url",
]
