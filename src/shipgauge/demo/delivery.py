"""The delivery part of `shipgauge demo`: a multi-service history posted through the real API."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from importlib import resources

import httpx

from shipgauge.api import create_app
from shipgauge.config import Settings
from shipgauge.demo.recorded_times import recording_shift
from shipgauge.errors import StoreError
from shipgauge.store import Store
from shipgauge.store.tokens import create_token

__all__ = ["load_demo"]

DEMO_CHECKPOINT = "delivery.demo"
DEMO_BATCH = 500


def load_demo(store: Store, *, move: bool = True) -> None:
    """Post the bundled multi-service history through the real API route, in process.

    The history (written by scripts/generate_delivery_demo.py) is moved by whole weeks so that
    it ends this week (unless `move` is false); its event ids are fixed, so loading twice stores
    it once.
    """
    if store.checkpoint(DEMO_CHECKPOINT) is not None:
        return
    folder = resources.files("shipgauge") / "demo_data" / "delivery"
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
    last = max(datetime.fromisoformat(e["time"]) for e in events)
    shift = recording_shift(store, "delivery", last) if move else timedelta()
    for event in events:
        event["time"] = (datetime.fromisoformat(event["time"]) + shift).isoformat()
    _post_through_api(store, events)
    with store.transaction() as tx:
        tx.set_checkpoint(DEMO_CHECKPOINT, len(events))


def _post_through_api(store: Store, events: list[dict[str, object]]) -> None:
    async def post_all(token: str) -> None:
        app = create_app(Settings.model_construct(db=store.url), store=store)
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
            for start in range(0, len(events), DEMO_BATCH):
                batch = events[start : start + DEMO_BATCH]
                response = await client.post("/api/v1/events", json=batch, headers=headers)
                if response.status_code != 200:
                    raise StoreError(f"demo events refused: {response.text[:300]}")

    token = create_token(store, service="*", scopes=["events:write"])
    try:
        asyncio.run(post_all(token))
    finally:
        # The token existed only for this load; no credential is left behind.
        with store.transaction() as tx:
            tx.delete("api_tokens", "token_id = ?", [token.split("_")[1]])
