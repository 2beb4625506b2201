"""Log lines for people (`text`, the default for `make run`) or for a log pipeline (`json`, one
object a line), chosen by COMMERCE_LOG_FORMAT, the same for the web processes and the workers.

Every record carries the ids that let one follow a request into a workflow: `request_id` (set
by the web's middleware for the request being served, and carried onto the Temporal client's
loop thread by the bridge), and in the workers `workflow_id`, `run_id`, `workflow_type`,
`activity_type`... from temporalio's own loggers (`workflow.logger` and `activity.logger` put
them under the `temporal_workflow` / `temporal_activity` extras) or, for a plain module logger
inside an activity, from the activity's info. No Django here: the workers use it too.
"""

from __future__ import annotations

import contextvars
import json
import logging
import logging.config
from datetime import UTC, datetime
from typing import Any

# The request being served on this thread or task ("" outside a request).
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("commerce_request_id", default="")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# The attributes every LogRecord has; anything else on a record came from `extra=` and is kept.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}
# temporalio's extras -> the flat field names of a JSON line
_TEMPORAL_FIELDS = {
    "temporal_workflow": {"workflow_id": "workflow_id", "run_id": "run_id", "workflow_type": "workflow_type",
                          "task_queue": "task_queue", "namespace": "namespace", "attempt": "attempt"},
    "temporal_activity": {"workflow_id": "workflow_id", "workflow_run_id": "run_id",
                          "workflow_type": "workflow_type", "activity_id": "activity_id",
                          "activity_type": "activity_type", "task_queue": "task_queue",
                          "namespace": "namespace", "attempt": "attempt"},
}


class ContextFilter(logging.Filter):
    """Puts `request_id` on every record, and the activity's ids on a record logged inside an
    activity through a plain module logger (temporalio's `activity.logger` adds them itself)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = request_id.get()
        if not hasattr(record, "temporal_activity") and not hasattr(record, "temporal_workflow"):
            activity_extra = _current_activity()
            if activity_extra:
                record.temporal_activity = activity_extra
        return True


def _current_activity() -> dict[str, Any] | None:
    try:
        from temporalio import activity

        if not activity.in_activity():
            return None
        return dict(activity.info()._logger_details())
    except Exception:  # never let a log line fail over its context
        return None


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the ids, any `extra=` fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", "") or request_id.get()
        if rid:
            line["request_id"] = rid
        for extra, fields in _TEMPORAL_FIELDS.items():
            details = getattr(record, extra, None)
            if isinstance(details, dict):
                for key, name in fields.items():
                    if details.get(key) not in (None, ""):
                        line.setdefault(name, details[key])
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in _TEMPORAL_FIELDS and key != "request_id" and key not in line:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def logging_config(log_format: str, level: str = "INFO") -> dict[str, Any]:
    """A `logging.config.dictConfig` for the root logger on stderr (Django's LOGGING uses it too)."""
    formatter: dict[str, Any] = ({"()": "infra.logs.JsonFormatter"} if log_format == "json"
                                 else {"format": TEXT_FORMAT})
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "infra.logs.ContextFilter"}},
        "formatters": {"shop": formatter},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "shop", "filters": ["context"]}},
        "root": {"handlers": ["console"], "level": level},
    }


def configure(log_format: str, level: str = "INFO") -> None:
    logging.config.dictConfig(logging_config(log_format, level))
