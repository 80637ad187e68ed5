"""core.pake: the pairing code, the SPAKE2 exchange and what is derived from it."""

from __future__ import annotations

import pytest

from blindvault.core.pake import Handshake, PairingCode, PairingKeys, new_words
from blindvault.errors import FormatError, IntegrityError, UsageError


def _pair(words_a: tuple[str, ...], words_b: tuple[str, ...]) -> tuple[PairingKeys, PairingKeys]:
    a, b = Handshake(words_a, signed_in=True), Handshake(words_b, signed_in=False)
    return a.finish(b.message, "12345"), b.finish(a.message, "12345")


def test_code_round_trip_and_parse_forms() -> None:
    words = new_words()
    assert len(words) == 3
    code = PairingCode("12345", words)
    assert PairingCode.parse(str(code)) == code
    assert PairingCode.parse("  " + str(code).upper().replace("-", " ") + "\n") == code
    assert "redacted" in repr(code)
    assert words[0] not in repr(code)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "looks like"),
        ("12345-abandon-ability", "looks like"),
        ("12-abandon-ability-able", "looks like"),
        ("abcde-abandon-ability-able", "looks like"),
        ("12345-abandon-ability-zzzz", "word 3"),
        ("12345-abandon-ability-able-about", "looks like"),
    ],
)
def test_malformed_codes_are_usage_errors(text: str, needle: str) -> None:
    with pytest.raises(UsageError, match=needle):
        PairingCode.parse(text)


def test_same_words_same_keys_and_confirmation() -> None:
    words = new_words()
    ka, kb = _pair(words, words)
    assert ka == kb
    assert len(ka.confirmation) == 11 and ka.confirmation.replace(" ", "").isdigit()
    ka.check_confirm(kb.confirm_tag())
    assert kb.open(ka.seal(b"account")) == b"account"
    assert "redacted" in repr(ka)


def test_wrong_words_fail_the_confirmation_and_the_payload() -> None:
    words = new_words()
    other = (*words[:2], "zoo" if words[2] != "zoo" else "abandon")
    ka, kb = _pair(words, other)
    assert ka.confirmation != kb.confirmation
    with pytest.raises(IntegrityError):
        ka.check_confirm(kb.confirm_tag())
    with pytest.raises(IntegrityError):
        kb.open(ka.seal(b"account"))


def test_channel_is_bound() -> None:
    words = new_words()
    a, b = Handshake(words, signed_in=True), Handshake(words, signed_in=False)
    ka, kb = a.finish(b.message, "12345"), b.finish(a.message, "54321")
    with pytest.raises(IntegrityError):
        ka.check_confirm(kb.confirm_tag())


@pytest.mark.parametrize("cut", [0, 5, 17, 33, -1])
def test_a_changed_payload_is_an_integrity_error(cut: int) -> None:
    words = new_words()
    ka, kb = _pair(words, words)
    sealed = bytearray(ka.seal(b"x" * 100))
    if cut == -1:
        sealed = sealed[:-1]
    else:
        sealed[cut] ^= 1
    with pytest.raises(IntegrityError):
        kb.open(bytes(sealed))
    with pytest.raises(IntegrityError):
        kb.open(b"")


def test_malformed_and_reflected_messages() -> None:
    words = new_words()
    a = Handshake(words, signed_in=True)
    for bad in (b"", b"\x00" * 300, b"B" + b"\x00" * 32, a.message):
        with pytest.raises(FormatError):
            Handshake(words, signed_in=True).finish(bad, "12345")
