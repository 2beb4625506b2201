"""The payload codec (infra/payload_codec.py): what the shop hands Temporal is sealed, opens
again with the right key, old plain payloads pass, and anything else is a clear error."""

from __future__ import annotations

import base64
import os
import stat

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter

from infra.payload_codec import (
    ENCODING,
    KEY_FILE,
    KEY_ID,
    CodecError,
    EncryptionCodec,
    UnknownKeyError,
    decode_in_place,
    load_keyring,
    new_keyring_text,
    parse_keys,
)
from infra.temporal import converter_for

ADDRESS = {"email": "ada@example.com", "line1": "12 Analytical Row", "password_hash": "md5$abc$def"}


def _plain() -> Payload:
    (payload,) = pydantic_data_converter.payload_converter.to_payloads([ADDRESS])
    return payload


def _key(kid: str) -> str:
    return f"{kid}:{base64.b64encode(os.urandom(32)).decode()}"


async def test_a_payload_round_trips_and_is_not_readable_in_between():
    codec = EncryptionCodec(parse_keys(_key("k1")))
    (sealed,) = await codec.encode([_plain()])
    assert sealed.metadata["encoding"] == ENCODING and sealed.metadata[KEY_ID] == b"k1"
    assert b"ada@example.com" not in sealed.SerializeToString()
    assert b"Analytical" not in sealed.SerializeToString()
    (opened,) = await codec.decode([sealed])
    assert opened == _plain()  # the pydantic converter's JSON payload, its metadata included


async def test_the_shop_converter_seals_values_and_reads_them_back():
    converter = converter_for(parse_keys(_key("k1")))
    payloads = await converter.encode([ADDRESS])
    assert all(p.metadata["encoding"] == ENCODING for p in payloads)
    assert await converter.decode(payloads, [dict]) == [ADDRESS]


async def test_after_a_new_key_goes_first_the_old_key_still_opens_what_it_sealed():
    old = _key("k0")
    (sealed_before,) = await EncryptionCodec(parse_keys(old)).encode([_plain()])
    rotated = EncryptionCodec(parse_keys(f"{_key('k1')},{old}"))
    (sealed_after,) = await rotated.encode([_plain()])
    assert sealed_after.metadata[KEY_ID] == b"k1"  # new payloads: the first key
    assert await rotated.decode([sealed_before, sealed_after]) == [_plain(), _plain()]


async def test_with_encryption_off_payloads_are_written_plain_and_sealed_ones_still_open(monkeypatch):
    """COMMERCE_CODEC_ENCRYPT=0, the rollout from a release without the codec (docs/releases.md):
    what the old release's processes read must be plain; what was sealed before still opens."""
    from infra.config import load_config

    monkeypatch.setenv("COMMERCE_CODEC_ENCRYPT", "0")
    assert load_config().codec_encrypt is False
    keys = _key("k1")
    (sealed,) = await EncryptionCodec(parse_keys(keys)).encode([_plain()])
    converter = converter_for(parse_keys(keys), encrypt=False)
    written = await converter.encode([ADDRESS])
    assert [p.metadata["encoding"] for p in written] == [b"json/plain"]
    assert await converter.decode(written, [dict]) == [ADDRESS]
    assert await converter.payload_codec.decode([sealed]) == [_plain()]
    monkeypatch.setenv("COMMERCE_CODEC_ENCRYPT", "maybe")
    with pytest.raises(ValueError, match="COMMERCE_CODEC_ENCRYPT"):
        load_config()


async def test_a_key_id_nobody_configured_is_refused_by_name():
    (sealed,) = await EncryptionCodec(parse_keys(_key("gone"))).encode([_plain()])
    with pytest.raises(UnknownKeyError, match="'gone'"):
        await EncryptionCodec(parse_keys(_key("k1"))).decode([sealed])


async def test_a_tampered_ciphertext_is_refused():
    codec = EncryptionCodec(parse_keys(_key("k1")))
    (sealed,) = await codec.encode([_plain()])
    flipped = bytearray(sealed.data)
    flipped[-1] ^= 1
    tampered = Payload(metadata=dict(sealed.metadata), data=bytes(flipped))
    with pytest.raises(CodecError, match="does not decrypt"):
        await codec.decode([tampered])
    same_id_other_key = EncryptionCodec(parse_keys(_key("k1")))
    with pytest.raises(CodecError, match="does not decrypt"):
        await same_id_other_key.decode([sealed])


async def test_plain_payloads_from_before_the_codec_pass_through_untouched():
    codec = EncryptionCodec(parse_keys(_key("k1")))
    plain, null = _plain(), Payload(metadata={"encoding": b"binary/null"})
    assert await codec.decode([plain, null]) == [plain, null]


@pytest.mark.parametrize("text, why", [
    ("", "no payload codec key"),
    ("k1", "expected kid:base64key"),
    ("k1:not base64!", "not valid base64"),
    (f"k1:{base64.b64encode(b'short').decode()}", "32 bytes"),
    (f"{_key('k1')},{_key('k1')}", "appears twice"),
    (_key("bad id"), "letters, digits"),
])
def test_a_bad_key_setting_is_refused_with_the_reason(text, why):
    with pytest.raises(CodecError, match=why):
        parse_keys(text)


def test_the_environment_setting_wins_over_the_key_file(tmp_path):
    setting = _key("from-env")
    assert load_keyring(setting, tmp_path).current == "from-env"
    assert not (tmp_path / KEY_FILE).exists()


def test_the_embedded_stack_creates_a_private_key_file_once_and_keeps_it(tmp_path):
    data_dir = tmp_path / "var"
    first = load_keyring("", data_dir)
    path = data_dir / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_keyring("", data_dir) == first  # the next process reads the same key
    assert [p.name for p in data_dir.iterdir()] == [KEY_FILE]  # no staging file left behind


def test_a_key_file_with_an_old_key_after_the_new_one_is_read_in_order(tmp_path):
    (tmp_path / KEY_FILE).write_text(f"{_key('k2')}\n{new_keyring_text()}\n")
    keyring = load_keyring("", tmp_path)
    assert keyring.current == "k2" and len(keyring.keys) == 2


async def test_a_history_event_is_opened_in_place_and_a_foreign_key_stays_sealed():
    from temporalio.api.history.v1 import HistoryEvent

    ours = EncryptionCodec(parse_keys(_key("k1")))
    (mine,) = await ours.encode([_plain()])
    (foreign,) = await EncryptionCodec(parse_keys(_key("elsewhere"))).encode([_plain()])
    event = HistoryEvent(event_id=1)
    event.workflow_execution_started_event_attributes.input.payloads.extend([mine, foreign])
    assert await decode_in_place(ours, [event]) == 1
    opened, still = event.workflow_execution_started_event_attributes.input.payloads
    assert opened == _plain() and still.metadata[KEY_ID] == b"elsewhere"
