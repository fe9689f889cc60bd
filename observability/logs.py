"""Structured logs: one JSON object per line, each carrying request_id, account_id and job_id
(empty when a line belongs to none)."""

import json
import logging
import traceback
from datetime import UTC, datetime

from observability import context

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id",
                                                    "account_id", "job_id"}


class ContextFilter(logging.Filter):
    def filter(self, record):
        record.request_id = getattr(record, "request_id", "") or context.request_id.get()
        record.account_id = getattr(record, "account_id", "") or context.current_account_id()
        record.job_id = getattr(record, "job_id", "") or context.job_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record):
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", ""),
            "account_id": getattr(record, "account_id", ""),
            "job_id": getattr(record, "job_id", ""),
        }
        for key, value in vars(record).items():  # anything passed with extra={...}
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value if isinstance(value, (str, int, float, bool, type(None))) \
                    else repr(value)
        if record.exc_info:
            line["exception"] = "".join(traceback.format_exception(*record.exc_info)).strip()
        return json.dumps(line, ensure_ascii=False, default=str)
