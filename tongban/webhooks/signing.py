"""The signature on an outgoing webhook, as a receiver checks it (recipe: docs/webhooks.md).

signature = hex(HMAC-SHA256(secret, f"{timestamp}.".encode() + body)), sent as
`X-Tongban-Signature: sha256=<hex>` beside `X-Tongban-Timestamp: <unix seconds>`. Signing the
timestamp with the body lets a receiver refuse old captures replayed by someone else.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

SCHEME = "sha256="


def encode_body(document: Any) -> bytes:
    """The bytes that are sent and signed: compact UTF-8 JSON with sorted keys."""
    return json.dumps(
        document, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    ).encode()


def sign(*, secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return SCHEME + digest.hexdigest()


def verify(
    *, secret: str, timestamp: str, body: bytes, signature: str, now: float, tolerance: int = 300
) -> bool:
    """What a receiver does: the same HMAC, compared in constant time, on a recent timestamp."""
    try:
        age = abs(now - int(timestamp))
    except ValueError:
        return False
    if age > tolerance:
        return False
    return hmac.compare_digest(sign(secret=secret, timestamp=timestamp, body=body), signature)
