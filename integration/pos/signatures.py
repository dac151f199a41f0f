"""Webhook signature checks, exactly as docs/../reference/pos-platforms.md describes, constant time.

Each verifier takes the raw body bytes (never a re-serialised parse) and returns True/False; they
never raise on hostile input. `sign_*` are used by the simulator and the tests.
"""

import base64
import binascii
import contextlib
import hashlib
import hmac


def _digest(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def sign_shopify(secret: str, body: bytes) -> str:
    return base64.b64encode(_digest(secret, body)).decode()


def verify_shopify(secret: str, body: bytes, header: str | None) -> bool:
    """Base64 HMAC-SHA256 of the raw body with the app (or shop) secret; empty body rejected."""
    if not secret or not header or not body:
        return False
    return hmac.compare_digest(sign_shopify(secret, body).encode(), header.strip().encode("utf-8", "replace"))


def sign_square(secret: str, notification_url: str, body: bytes) -> str:
    return base64.b64encode(_digest(secret, notification_url.encode() + body)).decode()


def verify_square(secret: str, notification_url: str, body: bytes, header: str | None) -> bool:
    """Base64 HMAC-SHA256 over the URL exactly as registered (no normalising) + the raw body."""
    if not secret or not header or not notification_url or not body:
        return False
    expected = sign_square(secret, notification_url, body)
    return hmac.compare_digest(expected.encode(), header.strip().encode("utf-8", "replace"))


def sign_lightspeed(secret: str, body: bytes, *, encoding: str = "hex") -> str:
    digest = _digest(secret, body)
    value = digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()
    return f"signature={value},algorithm=HMAC-SHA256"


def parse_signature_header(header: str) -> dict[str, str]:
    """`signature=…,algorithm=HMAC-SHA256` → dict; tolerant of spaces, case and order."""
    pairs = {}
    for part in header.split(","):
        key, sep, value = part.partition("=")
        if sep:
            # base64 values may end in '=' padding: partition keeps everything after the first '='.
            pairs[key.strip().lower()] = value.strip()
    return pairs


def verify_lightspeed(secret: str, body: bytes, header: str | None) -> bool:
    """X-Series: the digest encoding is unconfirmed (reference §3.1), so accept hex or base64."""
    if not secret or not header or not body:
        return False
    pairs = parse_signature_header(header)
    algorithm = pairs.get("algorithm", "HMAC-SHA256").upper().replace("_", "-")
    if algorithm != "HMAC-SHA256":
        return False
    given = pairs.get("signature", "")
    if not given:
        return False
    digest = _digest(secret, body)
    candidates = []
    with contextlib.suppress(ValueError):
        candidates.append(bytes.fromhex(given))
    with contextlib.suppress(binascii.Error, ValueError):
        candidates.append(base64.b64decode(given, validate=True))
    ok = False
    for candidate in candidates:
        ok |= hmac.compare_digest(candidate, digest)
    return ok
