"""Pipelines: the write side. One package per capability wires connector → source parser → store.

`registry` lists the capabilities; shared steps (`pushlog`, `dead_letters`) sit beside them.
"""
