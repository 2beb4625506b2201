"""Encrypted payloads: what the shop hands Temporal (workflow inputs, results, signals, updates,
activity arguments) is sealed with AES-256-GCM, so Temporal's history never holds a password
hash, an address or an email in clear.

A sealed payload's metadata is `encoding: binary/encrypted` (the name Temporal's samples use)
and `encryption-key-id: <kid>`; its data is a 12-byte nonce followed by the ciphertext of the
inner payload (the pydantic converter's JSON payload, metadata included, serialized as a
protobuf). Decoding leaves any payload without that encoding untouched: histories recorded
before the codec, and workflows still running from then, keep working.

Keys: `COMMERCE_CODEC_KEYS` (`kid1:base64key,kid0:base64key`, the first encrypts, every one
decrypts, so a new key goes first and the old ones stay until no history needs them), else the
file `codec-keys` in the data folder (same format), created on first use with mode 0600.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

log = logging.getLogger(__name__)

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
KEY_FILE = "codec-keys"
NONCE_BYTES = 12
_KID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class CodecError(ValueError):
    """A payload or a key setting the codec cannot use; the message says which and why."""


class UnknownKeyError(CodecError):
    """A payload sealed under a key id this process has not been given."""


@dataclass(frozen=True)
class Keyring:
    keys: tuple[tuple[str, bytes], ...]  # (kid, 32-byte key), the first encrypts

    def __post_init__(self) -> None:
        if not self.keys:
            raise CodecError("no payload codec key")
        kids = [kid for kid, _ in self.keys]
        if len(set(kids)) != len(kids):
            raise CodecError(f"a key id appears twice among {', '.join(kids)}")
        for kid, key in self.keys:
            if not _KID.fullmatch(kid):
                raise CodecError(f"key id {kid!r}: letters, digits, '.', '_' and '-' only, up to 64")
            if len(key) != 32:
                raise CodecError(f"key {kid}: AES-256 needs 32 bytes, got {len(key)}")

    @property
    def current(self) -> str:
        return self.keys[0][0]

    def key(self, kid: str) -> bytes:
        for known, key in self.keys:
            if known == kid:
                return key
        raise UnknownKeyError(f"payload encrypted with key id {kid!r}, which is not among the configured keys "
                         f"({', '.join(k for k, _ in self.keys)}): add it to COMMERCE_CODEC_KEYS or the key file")

    def serialized(self) -> str:
        return ",".join(f"{kid}:{base64.b64encode(key).decode()}" for kid, key in self.keys)


def parse_keys(text: str) -> Keyring:
    """`kid:base64key[,kid:base64key...]` (spaces and newlines around entries are ignored)."""
    keys: list[tuple[str, bytes]] = []
    for entry in (e.strip() for e in text.replace("\n", ",").split(",")):
        if not entry:
            continue
        kid, sep, encoded = entry.partition(":")
        if not sep:
            raise CodecError(f"codec key entry {kid[:8]!r}…: expected kid:base64key")
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise CodecError(f"key {kid.strip()}: not valid base64") from None
        keys.append((kid.strip(), key))
    return Keyring(tuple(keys))


def new_keyring_text() -> str:
    kid = f"k{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(2)}"
    return Keyring(((kid, AESGCM.generate_key(bit_length=256)),)).serialized()


def key_file_keyring(data_dir: Path) -> Keyring:
    """The data folder's key file, created (0600, atomically: processes starting together agree
    on one key) when absent."""
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        staged = data_dir / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as out:
                out.write(new_keyring_text() + "\n")
                out.flush()
                os.fsync(out.fileno())
            try:
                os.link(staged, path)  # fails if another process made it first: theirs wins
                log.warning("created the payload codec key file %s: back it up, histories cannot be read "
                            "without it", path)
            except FileExistsError:
                pass
        finally:
            staged.unlink(missing_ok=True)
    if path.stat().st_mode & 0o077:
        log.warning("%s is readable by others than its owner: chmod 600 it", path)
    return parse_keys(path.read_text())


def load_keyring(codec_keys: str, data_dir: Path) -> Keyring:
    """`COMMERCE_CODEC_KEYS` when set, else the data folder's key file."""
    return parse_keys(codec_keys) if codec_keys.strip() else key_file_keyring(data_dir)


class EncryptionCodec(PayloadCodec):
    """`encrypt=False` (COMMERCE_CODEC_ENCRYPT=0) opens sealed payloads but writes plain ones: a
    rolling release from a release without the codec runs so until none of its processes is left
    (docs/releases.md), since those cannot open a sealed payload."""

    def __init__(self, keyring: Keyring, *, encrypt: bool = True):
        self.keyring = keyring
        self.encrypting = encrypt
        self._ciphers = {kid: AESGCM(key) for kid, key in keyring.keys}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        if not self.encrypting:
            return list(payloads)
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) for p in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        kid = self.keyring.current
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[kid].encrypt(nonce, payload.SerializeToString(), None)
        return Payload(metadata={"encoding": ENCODING, KEY_ID: kid.encode()}, data=nonce + sealed)

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # written before the codec (or never encrypted): as it is
        kid = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        self.keyring.key(kid)  # a clear error for a key id nobody configured
        try:
            inner = self._ciphers[kid].decrypt(payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], None)
        except (InvalidTag, ValueError):  # ValueError: too short to hold a nonce
            raise CodecError(f"payload under key id {kid!r} does not decrypt: altered, or a different key "
                             "with the same id") from None
        return Payload.FromString(inner)


def payloads_in(message: Message) -> list[Payload]:
    """Every Payload inside a protobuf message (a history event, a failure...), as references
    into it: replacing one's contents (CopyFrom) changes the message."""
    found: list[Payload] = []

    def walk(m: Message) -> None:
        if isinstance(m, Payload):
            found.append(m)
            return
        for field, value in m.ListFields():
            if field.message_type is None:
                continue
            if isinstance(value, Message):
                walk(value)
            elif field.message_type.GetOptions().map_entry:
                if field.message_type.fields_by_name["value"].message_type is not None:
                    for item in value.values():
                        walk(item)
            else:
                for item in value:
                    walk(item)

    walk(message)
    return found


async def decode_in_place(codec: PayloadCodec | None, messages: Iterable[Message]) -> int:
    """Decode the sealed payloads inside `messages` for people to read; one the codec cannot open
    (a key id not configured here) stays sealed. How many stayed sealed."""
    if codec is None:
        return 0
    sealed = 0
    for message in messages:
        for payload in payloads_in(message):
            if payload.metadata.get("encoding") != ENCODING:
                continue
            try:
                (opened,) = await codec.decode([payload])
            except CodecError:
                sealed += 1
                continue
            payload.CopyFrom(opened)
    return sealed
