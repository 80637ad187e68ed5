"""Several people on one real server, each with their own BLINDVAULT_HOME, driving the CLI
in-process (social recovery tests, issue 17)."""

from __future__ import annotations

import io
import json
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from blindvault.cli import main


@dataclass
class Person:
    email: str
    home: Path
    password: str
    world: World

    def __call__(self, *args: str, stdin: str | None = None, **env: str) -> tuple[int, str, str]:
        return self.world.run(self, list(args), env, stdin)

    def json(self, *args: str, **env: str) -> Any:
        code, out, err = self(*args, "--json", **env)
        assert code == 0, err
        return json.loads(out)

    def fingerprint(self) -> str:
        return str(self.json("fingerprint")["fingerprint"])

    def trust(self, other: Person) -> None:
        code, _, err = self("trust", other.email, "--fingerprint", other.fingerprint())
        assert code == 0, err


@dataclass
class World:
    url: str
    root: Path
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]

    def run(
        self, who: Person, argv: list[str], env: dict[str, str], stdin: str | None = None
    ) -> tuple[int, str, str]:
        self.monkeypatch.setenv("BLINDVAULT_HOME", str(who.home))
        self.monkeypatch.setenv("BLINDVAULT_PASSWORD", who.password)
        self.monkeypatch.delenv("BLINDVAULT_NEW_PASSWORD", raising=False)
        for name, value in env.items():
            self.monkeypatch.setenv(name, value)
        if stdin is not None:
            self.monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        self.capsys.readouterr()
        code = main(argv)
        out, err = self.capsys.readouterr()
        return code, out, err

    def person(self, name: str, *, signup: bool = True) -> Person:
        home = self.root / f"{name}-{secrets.token_hex(3)}"
        home.mkdir()
        p = Person(f"{name}{secrets.token_hex(4)}@example.org", home, f"pw-{name}", self)
        if signup:
            code, _, err = p(
                "signup", "--accept-weak-password", "--server", self.url, "--email", p.email,
                "--recovery-file", str(home / "words.txt"), BLINDVAULT_NEW_PASSWORD=p.password,
            )  # fmt: skip
            assert code == 0, err
        return p

    def device(self, of: Person) -> Person:
        """A new device of `of`'s (nothing on it: the password is lost)."""
        home = self.root / f"new-{secrets.token_hex(3)}"
        home.mkdir()
        return Person(of.email, home, "", self)


def social_setup(
    world: World, threshold: int, contacts: int, wait: str = "0s"
) -> tuple[Person, list[Person]]:
    """An owner with `contacts` contacts, all pinned both ways, and a setup."""
    owner = world.person("owner")
    people = [world.person(f"c{i}") for i in range(contacts)]
    for c in people:
        owner.trust(c)
        c.trust(owner)
    code, _, err = owner(
        "recovery", "setup", "--threshold", str(threshold), "--to", *[c.email for c in people],
        "--wait", wait, "--recovery-file", str(owner.home / "new-words.txt"),
    )  # fmt: skip
    assert code == 0, err
    return owner, people
