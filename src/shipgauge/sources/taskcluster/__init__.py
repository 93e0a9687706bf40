"""Taskcluster Queue formats: Pulse task messages, task status and definitions → rows.

`pulse` reads messages, `rows` maps a status (+ definition) to `tasks`/`task_runs` rows (shared
with the CI-cost capability's `listTaskGroup` entries), `schemas` validates against the Queue's
JSON schemas.
"""

from shipgauge.sources.taskcluster.pulse import (
    MessageRows,
    Reject,
    exchange_kind,
    parse_message,
    parse_messages,
    rows_from_message,
)
from shipgauge.sources.taskcluster.rows import (
    FINAL_RUN_STATES,
    KNOWN_TAGS,
    RUN_STATES,
    TaskDefinitionRow,
    TaskRow,
    TaskRunRow,
    definition_row,
    known_tags,
    normalize_tag_key,
    parse_time,
    rows_from_task_status,
    task_row_from_definition,
)
from shipgauge.sources.taskcluster.schemas import MESSAGE_KINDS, validate_message

__all__ = [
    "FINAL_RUN_STATES",
    "KNOWN_TAGS",
    "MESSAGE_KINDS",
    "RUN_STATES",
    "MessageRows",
    "Reject",
    "TaskDefinitionRow",
    "TaskRow",
    "TaskRunRow",
    "definition_row",
    "exchange_kind",
    "known_tags",
    "normalize_tag_key",
    "parse_message",
    "parse_messages",
    "parse_time",
    "rows_from_message",
    "rows_from_task_status",
    "task_row_from_definition",
    "validate_message",
]
