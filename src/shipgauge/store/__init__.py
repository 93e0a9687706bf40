"""The store: schema and migrations, idempotent writes, checkpoints, dead letters, export."""

from shipgauge.store.store import QueryResult, Row, Store, Transaction, dead_letter_id

__all__ = ["QueryResult", "Row", "Store", "Transaction", "dead_letter_id"]
