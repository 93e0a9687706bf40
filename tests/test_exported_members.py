"""The public surface of the package root is exactly what `__all__` says, sorted."""

import types

import shipgauge


def test_all_is_exact_and_sorted() -> None:
    public = {
        name
        for name, value in vars(shipgauge).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert shipgauge.__all__ == sorted(shipgauge.__all__)
    assert set(shipgauge.__all__) == public | {"__version__"}
