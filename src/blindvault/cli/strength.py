"""Strength of a new password (signup, passwd, recover) and generated passphrases.

The password is the root of every key, and the server holds a value it can test guesses
against at the cost of one Argon2id each. A new password is estimated with zxcvbn (the
email and "blindvault" as user inputs); below `MIN_SCORE` it is refused with zxcvbn's own
feedback unless the user passes `--accept-weak-password`. `docs/guide.md` states the
threshold and the guess-cost arithmetic.

`--generate-password` makes `PASSPHRASE_WORDS` words from the EFF long list (7776 words,
shipped by the `diceware` package): 6 * log2(7776) ≈ 77.5 bits."""

from __future__ import annotations

import math
from importlib import resources

from zxcvbn import zxcvbn

from blindvault.core.primitives import random_below
from blindvault.errors import PolicyError

__all__ = [
    "ARGON2_GUESSES_PER_SECOND",
    "MIN_SCORE",
    "PASSPHRASE_WORDS",
    "check_new_password",
    "eff_words",
    "generate_passphrase",
]

MIN_SCORE = 3  # zxcvbn score 0..4; 3 = "safely unguessable: moderate protection offline"
PASSPHRASE_WORDS = 6
# One Argon2id at the account default (64 MiB, t=3, p=4) takes ~0.1 s on one core; an
# attacker with 100 such cores (a rented server) tests ~1000 guesses a second.
ARGON2_GUESSES_PER_SECOND = 1000
_EFF_SIZE = 7776
_YEAR = 365.25 * 24 * 3600


def _duration(seconds: float) -> str:
    for unit, size in (("years", _YEAR), ("days", 86400.0), ("hours", 3600.0), ("minutes", 60.0)):
        if seconds >= size:
            return f"{seconds / size:,.0f} {unit}"
    return "less than a minute"


def check_new_password(password: str, email: str, *, accept_weak: bool) -> None:
    """Refuse (PolicyError, exit 8) a new password scoring below MIN_SCORE."""
    if accept_weak:
        return
    result = zxcvbn(password[:100], user_inputs=[email, *email.split("@"), "blindvault"])
    score = int(result["score"])
    if score >= MIN_SCORE:  # mutant: cli.weak-password-refused [accept]
        return
    guesses = float(result["guesses"])
    feedback = result["feedback"]
    tips = [str(feedback.get("warning") or ""), *[str(s) for s in feedback["suggestions"]]]
    advice = " ".join(t for t in tips if t) or "Add another word or two."
    raise PolicyError(
        f"the new password is too weak (strength {score} of 4; at least {MIN_SCORE} is "
        f"needed): about 10^{math.log10(max(guesses, 1)):.0f} guesses, "
        f"{_duration(guesses / ARGON2_GUESSES_PER_SECOND)} offline at "
        f"{ARGON2_GUESSES_PER_SECOND} Argon2id guesses a second. {advice}\n"
        "Use --generate-password for a strong passphrase, or --accept-weak-password to keep "
        "it anyway; nothing was changed."
    )


def eff_words() -> list[str]:
    """The EFF long word list (7776 words) as the `diceware` package ships it."""
    text = (
        resources.files("diceware")
        .joinpath("wordlists/wordlist_en_eff.txt")
        .read_text(encoding="utf-8")
    )
    words = [line.split()[-1] for line in text.splitlines() if line.strip()]
    if len(words) != _EFF_SIZE:
        raise PolicyError(f"the EFF word list has {len(words)} words, not {_EFF_SIZE}")
    return words


def generate_passphrase(count: int = PASSPHRASE_WORDS) -> str:
    """`count` words chosen uniformly (CSPRNG) from the EFF long list, joined by '-'."""
    words = eff_words()
    return "-".join(words[random_below(len(words))] for _ in range(count))
