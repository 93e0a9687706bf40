"""The generated reference docs match the code: every command, setting and model is documented."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("gen_docs", REPO / "scripts" / "gen_docs.py")
assert _spec and _spec.loader
gen_docs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen_docs)


@pytest.mark.parametrize("name", sorted(gen_docs.GENERATED))
def test_generated_doc_is_current(name: str) -> None:
    committed = (REPO / "docs" / name).read_text(encoding="utf-8")
    assert committed == gen_docs.GENERATED[name](), (
        f"docs/{name} is stale: run `.venv/bin/python scripts/gen_docs.py`"
    )


def test_every_setting_has_a_description() -> None:
    from shipgauge.config import Settings

    missing = [n for n, f in Settings.model_fields.items() if not f.description]
    assert missing == []
