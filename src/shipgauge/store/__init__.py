"""The store: schema and migrations, idempotent writes, checkpoints, dead letters, export."""

from shipgauge.store._sql import in_text_list
from shipgauge.store.dead_letters import dead_letter_id
from shipgauge.store.engines import engine_errors, is_postgres_url
from shipgauge.store.store import (
    DELIVERY_TURN,
    KeyConflict,
    QueryResult,
    Row,
    Store,
    Transaction,
)

__all__ = [
    "DELIVERY_TURN",
    "KeyConflict",
    "QueryResult",
    "Row",
    "Store",
    "Transaction",
    "dead_letter_id",
    "engine_errors",
    "in_text_list",
    "is_postgres_url",
]
