"""Stripe's wire format for its fake: ids, form bodies with bracketed keys, and the webhook
signature header."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from typing import Any
from urllib.parse import parse_qsl

from fakes.base import random_id

DAY = 86400
PERIOD = 30 * DAY
API_VERSION = "2026-10-28.endive"
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def new_id(prefix: str) -> str:
    return f"{prefix}_{random_id(24, ALNUM)}"


def decode_form(body: bytes | str) -> dict:
    """`a[b][0][c]=1` -> {"a": {"b": [{"c": "1"}]}}, as Stripe reads its form bodies."""
    if isinstance(body, bytes):
        body = body.decode()
    out: dict = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key) or [key]
        node: Any = out
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            nxt: Any = value if last else ([] if parts[index + 1].isdigit() else {})
            if isinstance(node, list):
                position = int(part)
                while len(node) <= position:
                    node.append(None)
                if node[position] is None or last:
                    node[position] = nxt
                node = node[position]
            else:
                if part not in node or last:
                    node[part] = nxt
                node = node[part]
    return out


def signature_header(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """Stripe's scheme: v1 = hex HMAC-SHA256 with the endpoint secret over "{t}.{body}"."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"
