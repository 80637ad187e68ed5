"""One mailbox, one account: the server's canonical form of an email address.

`normalize_email` maps the spellings of one address to one string and refuses the ones
that only look like an address:

- Unicode NFKC (full-width letters, ligatures and compatibility forms fold together);
- control, format (zero-width joiners, soft hyphen, BOM), separator, private-use,
  surrogate and unassigned characters are refused, NUL included (PostgreSQL cannot store
  it: a 400 here instead of a 500 there);
- the local part is lower-cased (as it always was);
- the domain loses one trailing dot and is written in its IDNA A-label form (UTS #46
  mapping), so `bücher.de`, `BÜCHER.de.` and `xn--bcher-kva.de` are one domain.

Look-alikes from different scripts (a Cyrillic `U+0430` for a Latin `a`) are different mailboxes
and stay different accounts; see docs/server.md.
"""

from __future__ import annotations

import unicodedata

import idna

from blindvault.server.errors import invalid

MAX_EMAIL = 320  # the accounts.email column
_MAX_LOCAL = 64  # RFC 5321 §4.5.3.1.1, in octets
_REFUSED = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})


def check_text(value: str, what: str) -> str:
    """`value` unchanged, or 400 if it holds a control, format or unassigned character."""
    if any(unicodedata.category(c) in _REFUSED - {"Zs"} for c in value):
        raise invalid(f"{what} contains a control or invisible character")
    return value


def normalize_email(raw: str) -> str:
    """The canonical address, or 400 `invalid_request` (never a database error)."""
    text = unicodedata.normalize("NFKC", raw.strip(" \t\r\n"))
    if any(unicodedata.category(c) in _REFUSED for c in text):
        raise invalid("email contains a control, invisible or space character")
    local, sep, domain = text.rpartition("@")
    if not sep or not local or "@" in local or not domain:
        raise invalid("not an email address")
    local = unicodedata.normalize("NFKC", local.lower())
    if len(local.encode("utf-8")) > _MAX_LOCAL:
        raise invalid("the part before @ is longer than 64 bytes")
    if domain.endswith("."):
        domain = domain[:-1]
    try:
        ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise invalid("the domain is not a valid (internationalised) domain name") from None
    email = f"{local}@{ascii_domain}"
    if len(email.encode("utf-8")) > MAX_EMAIL:
        raise invalid(f"email is longer than {MAX_EMAIL} bytes")
    return email
