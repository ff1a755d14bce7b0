"""Structured logging: one JSON object per line, with request, actor and job ids from contextvars.

Messages are short event names (`project.created`) and the details go in `extra=`.
Must not: log secrets, tokens, phone numbers, ID numbers or document contents.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
actor_var: ContextVar[str | None] = ContextVar("actor", default=None)
job_id_var: ContextVar[str | None] = ContextVar("job_id", default=None)

# color_message: uvicorn's ANSI-coloured copy of the message, noise in a JSON line.
_RESERVED = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key, var in (("request_id", request_id_var), ("actor", actor_var), ("job_id", job_id_var)):
            value = var.get()
            if value is not None:
                entry[key] = value
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _no_websocket_accepts(record: logging.LogRecord) -> bool:
    """uvicorn logs every websocket handshake at INFO; `ws.session` (server.middleware) logs each
    socket once, when it ends, with its duration. 10,000 sockets need not be announced twice."""
    return not (record.levelno == logging.INFO and str(record.msg).endswith('"WebSocket %s" [accepted]'))


def setup_logging(level: str = "INFO", as_json: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if as_json else logging.Formatter("%(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "arq"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)  # server.http logs each request once
    logging.getLogger("uvicorn.error").addFilter(_no_websocket_accepts)  # server.http logs each socket once
    logging.getLogger("pgserver").setLevel(logging.WARNING)  # it logs every pg_ctl call with its output
