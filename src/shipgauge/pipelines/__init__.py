"""Pipelines: one module per capability, wiring connector → source parser → store."""
