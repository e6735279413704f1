"""`LOG_FORMAT=json`: one JSON object per log line, for log collectors.

Fields: `time` (ISO-8601 UTC, milliseconds), `level`, `logger`, `message`, and `guild_id` /
`case_id` when the call passed them (`log.info("...", extra={"guild_id": g, "case_id": c})`),
then `exception` for a traceback. Redaction is not this class's job: the handler's
`core.settings.RedactingFilter` runs before any formatter and has already replaced the token,
interaction tokens and payloads in `record.msg` and `record.exc_text` (a handler applies its
filters before it formats), so what is formatted here is already clean.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

# Only these extras are copied: an arbitrary `extra` could carry what a person wrote.
CONTEXT_FIELDS = ("guild_id", "case_id")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if isinstance(value, int) and not isinstance(value, bool):
                entry[name] = str(value)  # snowflakes exceed JavaScript's safe integers
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
