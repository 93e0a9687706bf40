"""hg.mozilla.org formats: `json-pushes` (version 1 and 2, with or without `full=1`), `json-rev`
records, and Pulse `exchange/hgpushes/v1` and `v2` (`changegroup.1`) messages → rows.

Push ids arrive as JSON object keys (strings) and are turned into integers here, once, so that
nothing downstream compares "9999" with "10000" as text (docs/upstream.md,
quirk Q1). A push whose changesets are all hidden has `changesets: []` and no tip (quirk Q2).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

from shipgauge.errors import SourceError

__all__ = [
    "CHANGEGROUP",
    "ChangesetRow",
    "PushMessage",
    "PushRef",
    "PushRow",
    "Pushlog",
    "Reject",
    "Revision",
    "parse_json_rev",
    "parse_push",
    "parse_push_message",
    "parse_pushlog",
    "parse_pushlog_bytes",
    "repo_path",
]

CHANGEGROUP = "changegroup.1"
# An old pushlog answered a startID above the last push with this error object and HTTP 200.
PAST_LAST_PUSH = "PUSH_ID_GREATER_THAN_AVAILABLE"


@dataclass(frozen=True)
class PushRow:
    """One push: a row of `pushes`. `tip_node` is the tip-most visible changeset, if any."""

    KEY: ClassVar[tuple[str, ...]] = ("repo", "push_id")

    repo: str
    push_id: int
    pushed_at: datetime
    push_user: str | None
    changeset_count: int
    tip_node: str | None

    def as_row(self) -> dict[str, Any]:
        return dict(vars(self))  # shallow: asdict deep-copies every list, slow for big pages


@dataclass(frozen=True)
class ChangesetRow:
    """One changeset of a push: a row of `changesets`. Without `full=1` only the node is known."""

    KEY: ClassVar[tuple[str, ...]] = ("repo", "node")

    repo: str
    node: str
    push_id: int
    position_in_push: int
    author: str | None = None
    description: str | None = None
    branch: str | None = None
    parents: list[str] | None = None
    files: list[str] | None = None

    @property
    def full(self) -> bool:
        """Whether the pushlog gave the changeset's metadata (`full=1`) or only its node."""
        return self.description is not None

    def as_row(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass(frozen=True)
class Reject:
    """An entry a batch parser could not read: becomes a dead letter."""

    key: str
    error: str
    payload: bytes


@dataclass
class Pushlog:
    """One `json-pushes` answer: its pushes and changesets, and `lastpushid` (None in version 1)."""

    repo: str
    last_push_id: int | None
    pushes: list[PushRow] = field(default_factory=list)
    changesets: list[ChangesetRow] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)


def repo_path(repo_url: str) -> str:
    """The repository key: the URL path without slashes at either end.

    >>> repo_path("https://hg.mozilla.org/integration/autoland/")
    'integration/autoland'
    """
    path = urlsplit(repo_url.strip()).path if "://" in repo_url else repo_url
    path = path.strip().strip("/")
    if not path:
        raise SourceError(f"'{repo_url}' names no repository", field="repo")
    return path


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise SourceError(f"{what} is not an integer: {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SourceError(f"{what} is not an integer: {value!r}") from None


def _node(value: Any, what: str) -> str:
    if not isinstance(value, str) or len(value) != 40:
        raise SourceError(f"{what} is not a 40-hex changeset id: {value!r}")
    return value.lower()


def _str_list(value: Any) -> list[str] | None:
    return [str(v) for v in value] if isinstance(value, list) else None


def parse_push(
    push_id: str | int, push: Mapping[str, Any], *, repo: str
) -> tuple[PushRow, list[ChangesetRow]]:
    """One pushlog entry (`{"changesets", "date", "user"}`) → its push row and changeset rows.

    Changesets are strings (plain) or objects (`full=1`); they come in DAG order, tip-most last.
    """
    pid = _int(push_id, f"push id of {repo}")
    if not isinstance(push, Mapping):
        raise SourceError(f"push {repo}/{pid} is not an object")
    entries = push.get("changesets")
    if not isinstance(entries, list):
        raise SourceError(f"push {repo}/{pid} has no changesets list")
    changesets = []
    for position, entry in enumerate(entries):
        what = f"changeset {position} of push {repo}/{pid}"
        if isinstance(entry, str):
            changesets.append(ChangesetRow(repo, _node(entry, what), pid, position))
        elif isinstance(entry, Mapping):
            changesets.append(
                ChangesetRow(
                    repo,
                    _node(entry.get("node"), what),
                    pid,
                    position,
                    author=entry.get("author"),
                    description=str(entry.get("desc") or ""),
                    branch=entry.get("branch"),
                    parents=_str_list(entry.get("parents")),
                    files=_str_list(entry.get("files")),
                )
            )
        else:
            raise SourceError(f"{what} is neither a node nor an object")
    date = _int(push.get("date"), f"date of push {repo}/{pid}")
    row = PushRow(
        repo=repo,
        push_id=pid,
        pushed_at=datetime.fromtimestamp(date, UTC),
        push_user=push.get("user"),
        changeset_count=len(changesets),
        tip_node=changesets[-1].node if changesets else None,
    )
    return row, changesets


def parse_pushlog(
    doc: Any, *, repo: str, on_error: Literal["raise", "collect"] = "collect"
) -> Pushlog:
    """A `json-pushes` document (version 1: pushes at the top; version 2: `lastpushid` + `pushes`).

    With `on_error="collect"` a bad push becomes a `Reject`; with `"raise"` it raises SourceError.
    """
    if not isinstance(doc, Mapping):
        raise SourceError(f"pushlog of {repo} is not a JSON object")
    if "errorcode" in doc or "error" in doc:
        if doc.get("errorcode") == PAST_LAST_PUSH:
            return Pushlog(repo, _int(doc.get("lastpushid"), "lastpushid"))
        raise SourceError(f"pushlog of {repo} answered an error: {doc.get('error') or doc}")
    if "pushes" in doc:
        last = _int(doc.get("lastpushid"), f"lastpushid of {repo}")
        entries = doc["pushes"]
        if not isinstance(entries, Mapping):
            raise SourceError(f"pushlog of {repo}: 'pushes' is not an object")
    else:
        last, entries = None, doc
    page = Pushlog(repo, last)
    for push_id in sorted(entries, key=lambda k: _int(k, f"push id of {repo}")):
        try:
            push, changesets = parse_push(push_id, entries[push_id], repo=repo)
        except SourceError as exc:
            if on_error == "raise":
                raise
            payload = json.dumps({push_id: entries[push_id]}).encode()
            page.rejects.append(Reject(f"{repo}:{push_id}", exc.message, payload))
            continue
        page.pushes.append(push)
        page.changesets.extend(changesets)
    return page


def parse_pushlog_bytes(
    body: bytes, *, repo: str, on_error: Literal["raise", "collect"] = "collect"
) -> Pushlog:
    """`parse_pushlog` over a raw response body; a body that is not JSON is a SourceError."""
    try:
        doc = json.loads(body)
    except ValueError:
        raise SourceError(f"pushlog of {repo} is not JSON: {body[:60]!r}") from None
    return parse_pushlog(doc, repo=repo, on_error=on_error)


@dataclass(frozen=True)
class Revision:
    """An hgweb `json-rev` record: what the review classifier and the ping need."""

    node: str
    description: str
    author: str
    parents: list[str]
    push_id: int | None
    push_date: Any  # an int epoch in practice; the ping schema, not this parser, judges it
    landing_system: Any


def parse_json_rev(doc: Any) -> Revision:
    """`{repo}/json-rev/{node}` → Revision. `pushDate` = pushdate[0] + pushdate[1], as upstream.

    >>> parse_json_rev({"node": "a" * 40, "desc": "x", "user": "u", "parents": [],
    ...                 "pushdate": [1537966541, 0]}).push_date
    1537966541
    """
    if not isinstance(doc, Mapping):
        raise SourceError("json-rev is not a JSON object")
    node = _node(doc.get("node"), "json-rev node")
    pushdate = doc.get("pushdate")
    push_date = None
    if isinstance(pushdate, list) and len(pushdate) == 2:
        push_date = _int(pushdate[0], "pushdate") + _int(pushdate[1], "pushdate offset")
    push_id = doc.get("pushid")
    return Revision(
        node=node,
        description=str(doc.get("desc") or ""),
        author=str(doc.get("user") or ""),
        parents=_str_list(doc.get("parents")) or [],
        push_id=None if push_id is None else _int(push_id, "json-rev pushid"),
        push_date=push_date,
        landing_system=doc.get("landingsystem"),
    )


@dataclass(frozen=True)
class PushRef:
    """One `pushlog_pushes` entry of a push message."""

    push_id: int
    user: str | None
    push_json_url: str | None


@dataclass(frozen=True)
class PushMessage:
    """A Pulse hg push message, v1 (fields under `payload`) or v2 (`payload.type` + `data`)."""

    version: Literal["v1", "v2"]
    type: str
    repo_url: str
    heads: list[str]
    pushes: list[PushRef]

    @property
    def repo(self) -> str:
        return repo_path(self.repo_url)


def _push_refs(data: Mapping[str, Any]) -> list[PushRef]:
    entries = data.get("pushlog_pushes")
    if isinstance(entries, Mapping):  # the hgmo docs example shows an object, not a list
        entries = [entries]
    if not isinstance(entries, list):
        raise SourceError("push message has no pushlog_pushes list")
    refs = []
    for entry in entries:
        if not isinstance(entry, Mapping):
            raise SourceError("a pushlog_pushes entry is not an object")
        user, url = entry.get("user"), entry.get("push_json_url")
        refs.append(
            PushRef(
                push_id=_int(entry.get("pushid"), "pushlog_pushes pushid"),
                user=user.strip() if isinstance(user, str) else None,
                push_json_url=url if isinstance(url, str) else None,
            )
        )
    return refs


def parse_push_message(body: bytes | str | Mapping[str, Any]) -> PushMessage:
    """A Pulse hgpushes message body → PushMessage; neither v1 nor v2 shape is a SourceError.

    Types other than `changegroup.1` (`newrepo.1`, `obsolete.1`, …) parse with no pushes.
    """
    if isinstance(body, bytes | str):
        try:
            body = json.loads(body)
        except ValueError:
            raise SourceError("push message is not JSON") from None
    payload = body.get("payload") if isinstance(body, Mapping) else None
    if not isinstance(payload, Mapping):
        raise SourceError("push message has no payload object (neither hgpushes v1 nor v2)")
    if isinstance(payload.get("type"), str) and isinstance(payload.get("data"), Mapping):
        version: Literal["v1", "v2"] = "v2"
        kind, data = payload["type"], payload["data"]
    elif "pushlog_pushes" in payload and "repo_url" in payload:
        version, kind, data = "v1", CHANGEGROUP, payload
    else:
        raise SourceError("push message is neither hgpushes v1 nor v2 (no type/data or repo_url)")
    if kind != CHANGEGROUP:
        return PushMessage(version, kind, str(data.get("repo_url") or ""), [], [])
    repo_url = data.get("repo_url")
    if not isinstance(repo_url, str) or not repo_url.strip():
        raise SourceError("push message has no repo_url")
    heads = _str_list(data.get("heads")) or []
    return PushMessage(version, kind, repo_url.strip(), heads, _push_refs(data))
