"""Issue 20: a weak new password is refused with zxcvbn's feedback; a generated one is
accepted and works; `--accept-weak-password` keeps a weak one on purpose."""

from __future__ import annotations

import json
import math

import pytest

from blindvault.cli.strength import (
    MIN_SCORE,
    PASSPHRASE_WORDS,
    check_new_password,
    eff_words,
    generate_passphrase,
)
from blindvault.errors import PolicyError
from helpers.client import Cli


def test_weak_password_refused_with_feedback() -> None:
    with pytest.raises(PolicyError) as err:
        check_new_password("abc", "ann@example.org", accept_weak=False)
    text = str(err.value)
    assert "too weak" in text and f"at least {MIN_SCORE}" in text
    assert "Add another word" in text and "guesses" in text and "Argon2id" in text
    check_new_password("abc", "ann@example.org", accept_weak=True)  # chosen on purpose


def test_email_and_app_name_are_user_inputs() -> None:
    with pytest.raises(PolicyError):
        check_new_password("zorblaxquent!", "zorblaxquent@example.org", accept_weak=False)
    with pytest.raises(PolicyError):
        check_new_password("blindvaultsmithers", "smithers@example.org", accept_weak=False)
    check_new_password("zorblaxquent!", "ann@example.org", accept_weak=False)  # strong alone


def test_strong_and_generated_passwords_pass() -> None:
    check_new_password("correct horse battery staple bench", "a@b.org", accept_weak=False)
    made = generate_passphrase()
    words = made.split("-")
    assert len(words) == PASSPHRASE_WORDS == 6
    full = set(eff_words())
    assert len(full) == 7776 and all(w in full for w in words)
    assert PASSPHRASE_WORDS * math.log2(len(full)) > 77
    check_new_password(made, "a@b.org", accept_weak=False)
    assert len({generate_passphrase() for _ in range(20)}) == 20


def test_cli_signup_weak_refused_generated_accepted(cli: Cli) -> None:
    email = "new" + cli.email
    cli.monkeypatch.setenv("BLINDVAULT_NEW_PASSWORD", "abc")
    base = ("--server", cli.server.url, "--email", email)
    code, _, err = cli("signup", *base, "--recovery-file", str(cli.home / "w1.txt"))
    assert code == 8, err
    assert "too weak" in err and "Add another word" in err
    assert not (cli.home / "w1.txt").exists()  # nothing was created
    cli.monkeypatch.delenv("BLINDVAULT_NEW_PASSWORD")
    code, out, err = cli(
        "signup", *base, "--generate-password", "--json",
        "--recovery-file", str(cli.home / "w2.txt"),
    )  # fmt: skip
    assert code == 0, err
    made = json.loads(out)["generated_password"]
    assert len(made.split("-")) == 6
    assert cli("logout", password=made)[0] == 0
    assert cli("login", *base, password=made)[0] == 0  # the shown passphrase is the password
    code, out, err = cli("passwd", "--generate-password", password=made)
    assert code == 0, err
    assert "shown only once" in out
    newer = out.split("shown only once:")[1].split()[0]
    assert newer != made and cli("whoami", password=newer)[0] == 0


def test_cli_passwd_weak_refused_unless_accepted(cli: Cli) -> None:
    cli.monkeypatch.setenv("BLINDVAULT_NEW_PASSWORD", "password1")
    code, _, err = cli("passwd")
    assert code == 8 and "too weak" in err
    assert cli("whoami")[0] == 0  # unchanged: the old password still opens
    assert cli("passwd", "--accept-weak-password")[0] == 0
    assert cli("whoami", password="password1")[0] == 0
