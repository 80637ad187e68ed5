"""The CLI imports only the family of the command it runs (cli/app.py `FAMILIES`): the
table names exactly what each family registers, and a short command's process does not
load the client before its password's Argon2id has run (the peak-memory property)."""

from __future__ import annotations

import argparse
import subprocess
import sys

from blindvault.cli.app import FAMILIES, build_parser


def _registered() -> dict[str, tuple[str, ...]]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    found: dict[str, list[str]] = {}
    for name, parser in sub.choices.items():
        module = parser.get_default("func").__module__.rsplit(".", 1)[1]
        found.setdefault(module, []).append(name)
    return {family: tuple(names) for family, names in found.items()}


def test_the_table_names_what_every_family_registers() -> None:
    assert _registered() == FAMILIES


def test_one_command_builds_only_its_family() -> None:
    sub = next(
        a
        for a in build_parser(["--app-credential", "x", "put", "a", "/"])._actions
        if isinstance(a, argparse._SubParsersAction)
    )
    assert tuple(sub.choices) == FAMILIES["files"]
    everything = next(
        a for a in build_parser(["--help"])._actions if isinstance(a, argparse._SubParsersAction)
    )
    assert len(everything.choices) == sum(len(c) for c in FAMILIES.values())


def test_a_put_does_not_import_the_client_before_its_password_is_derived() -> None:
    probe = (
        "import sys\n"
        "from blindvault.cli.app import build_parser\n"
        "build_parser(['put', 'a.txt', '/'])\n"
        "print(sorted(m for m in sys.modules if m.startswith(('blindvault.client.vault',"
        " 'blindvault.client.session', 'blindvault.sync', 'httpx'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_a_link_id_starting_with_a_dash_is_an_id() -> None:
    from blindvault.cli import link

    routed = link.route(["link", "revoke", "-AbCd_123", "--json"])
    args = build_parser(routed).parse_args(routed)
    assert (args.command, args.id, args.json) == ("link-revoke", "-AbCd_123", True)
    plain = link.route(["link", "revoke", "AbCd", "--json"])
    assert build_parser(plain).parse_args(plain).id == "AbCd"
