"""Secrets at rest: what sanpi must keep and use again later (webhook signing secrets, IM robot
keys) is stored sealed with a key from settings, never in plaintext.

    box = SecretBox([newest_key, older_key])   # Fernet keys (new_key()), newest first
    stored = box.seal("whsec_…")               # "fernet:<key id>:<token>"
    box.open(stored)                           # the plaintext (a legacy plaintext value passes)
    box.needs_resealing(stored)                # plaintext, or sealed with an older key
    box.reseal(stored)                         # sealed with the newest key

Fernet (the `cryptography` package): AES-128-CBC with an HMAC-SHA256, a random IV per value, so a
stored value says nothing about the secret and cannot be altered unnoticed. The key id in front
is the first 8 hex digits of the key's SHA-256: it names the key a value needs without trying
them all, and tells which values an old key still seals.

Rotation, without a moment where a replica cannot read what another wrote:
1. add the new key at the END of the list on every replica, and restart them (all can read it);
2. move it to the FRONT and restart again (new values are sealed with it);
3. reseal what the old key sealed (the notification service does it at start-up and with
   `python -m sanpi.notification secrets reseal`);
4. drop the old key from the list.
Opening a value whose key is not configured raises SecretUnavailable naming the key id."""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Callable, Sequence

from cryptography.fernet import Fernet, InvalidToken

PREFIX = "fernet:"


class SecretUnavailable(ValueError):
    """A stored secret cannot be opened with the configured keys."""


def new_key() -> str:
    """A fresh random key, as the settings take it (urlsafe base64 of 32 bytes)."""
    return Fernet.generate_key().decode()


def key_id(key: str) -> str:
    """The id stored in front of what `key` sealed."""
    return hashlib.sha256(key.encode()).hexdigest()[:8]


def check_key(key: str) -> str:
    """Raises ValueError unless `key` is a Fernet key (for settings validation)."""
    try:
        raw = base64.urlsafe_b64decode(key.encode())
    except ValueError as exc:
        raise ValueError("a secret key is urlsafe base64 of 32 random bytes") from exc
    if len(raw) != 32:
        raise ValueError(f"a secret key is urlsafe base64 of 32 random bytes, not {len(raw)}")
    return key


class SecretBox:
    """Seals with the first key; opens with whichever key a value names."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("a SecretBox needs at least one key")
        self.newest = key_id(keys[0])
        self._fernets = {key_id(k): Fernet(check_key(k).encode()) for k in keys}
        # A webhook is signed at every attempt: each stored value is decrypted once a process.
        self.open: Callable[[str], str] = functools.lru_cache(maxsize=4096)(self._open)

    def seal(self, plaintext: str) -> str:
        token = self._fernets[self.newest].encrypt(plaintext.encode()).decode()
        return f"{PREFIX}{self.newest}:{token}"

    def _open(self, stored: str) -> str:
        if not stored.startswith(PREFIX):
            # Written before secrets were sealed; resealed at start-up (needs_resealing).
            return stored
        kid, _, token = stored[len(PREFIX) :].partition(":")
        fernet = self._fernets.get(kid)
        if fernet is None:
            raise SecretUnavailable(
                f"sealed with key {kid}, which is not among the configured keys "
                f"({', '.join(self._fernets)})"
            )
        try:
            return fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise SecretUnavailable(f"sealed value under key {kid} does not verify") from exc

    def needs_resealing(self, stored: str) -> bool:
        return not stored.startswith(f"{PREFIX}{self.newest}:")

    def reseal(self, stored: str) -> str:
        return stored if not self.needs_resealing(stored) else self.seal(self.open(stored))
