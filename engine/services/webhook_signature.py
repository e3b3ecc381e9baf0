"""Signing webhook deliveries, and checking a signature as a receiver would (pure functions).

The signature is ``sha256=<hex>``: HMAC-SHA256, keyed by the shared secret, of
``<timestamp>.<body>``. Binding the timestamp into the signed text lets a receiver refuse an old
delivery replayed later; the delivery id lets it drop a repeat of one it already handled.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

DELIVERY_HEADER = "X-Approute-Delivery"
TIMESTAMP_HEADER = "X-Approute-Timestamp"
SIGNATURE_HEADER = "X-Approute-Signature"


def body_bytes(payload: Any) -> bytes:
    """The exact bytes sent: compact JSON, UTF-8, non-ASCII text kept as it is."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of ``<timestamp>.<body>`` keyed by ``secret``."""
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def headers(secret: str, delivery_id: str, timestamp: str, body: bytes) -> dict[str, str]:
    """The headers of one delivery."""
    return {
        "Content-Type": "application/json; charset=utf-8",
        DELIVERY_HEADER: delivery_id,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }


def verify(
    secret: str, timestamp: str, body: bytes, signature: str, *, now: int, tolerance: int = 300
) -> bool:
    """What a receiver checks: the signature matches and the timestamp is within ``tolerance`` seconds."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs(now - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)
