"""Tokens the outside world hands back to us: status links and per-request reply addresses.

Derived with HMAC from the install's secret, so any service can make or check them
without a lookup, and a tampered one never matches.
"""

import base64
import hashlib
import hmac


def _mac(secret: str, purpose: str, value: str, length: int) -> str:
    digest = hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().rstrip("=").lower()[:length]


def status_token(secret: str, ref: str) -> str:
    return _mac(secret, "status", ref, 32)


def token_hash(token: str) -> str:
    """What is stored for a bearer or status token (they are random enough for plain sha256)."""
    return hashlib.sha256(token.encode()).hexdigest()


def reply_address(secret: str, intake_address: str, ref: str) -> str:
    """records@city.example + WOR-2026-000042 -> records+wor-2026-000042.<sig>@city.example"""
    local, _, domain = intake_address.partition("@")
    tag = ref.lower()
    return f"{local}+{tag}.{_mac(secret, 'reply', tag, 12)}@{domain}"


def ref_from_reply_address(secret: str, address: str) -> str | None:
    """The reference a signed reply address names, or None when unsigned or tampered."""
    local = address.partition("@")[0].lower()
    if "+" not in local:
        return None
    tagged = local.split("+", 1)[1]
    tag, _, signature = tagged.rpartition(".")
    expected = _mac(secret, "reply", tag, 12).encode()
    if not tag or not hmac.compare_digest(signature.encode(), expected):
        return None
    return tag.upper()


def api_key(secret: str, key_id: str) -> str:
    """The API key for `key_id`: derivable only with the secret, so it is never stored or
    carried in an event; the database keeps its hash."""
    return f"rdk_{key_id}_{_mac(secret, 'apikey', key_id, 40)}"


def key_id_of(key: str) -> str | None:
    parts = key.split("_")
    return parts[1] if len(parts) == 3 and parts[0] == "rdk" else None
