"""The web dashboard: its pages and static files, all shipped in the package (no CDN, no build).

Every page is the same `index.html`; the page's script reads the path and its filters from the
URL (`?range=30d&service=…`), so a link reproduces a view. Charts are drawn by the Chart.js
copy in `web/vendor/` (see the README there for its version and licence).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["PAGES", "WEB_DIR", "install"]

WEB_DIR = Path(__file__).parent / "web"
# path → title; `/ci-cost/pushes/{repo}/{push_id}` is the page of one push.
PAGES = {
    "/": "Overview",
    "/dora": "DORA",
    "/ci-cost": "CI cost",
    "/reviews": "Reviews",
    "/builds": "Builds",
}


def install(app: FastAPI) -> None:
    """Mount the static files at /static and answer every page with index.html."""
    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")

    def page() -> FileResponse:
        return FileResponse(WEB_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    for path in PAGES:
        app.add_api_route(path, page, include_in_schema=False, methods=["GET"])
    app.add_api_route(
        "/ci-cost/pushes/{repo:path}/{push_id}", page, include_in_schema=False, methods=["GET"]
    )
