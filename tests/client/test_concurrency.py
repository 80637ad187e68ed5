"""Two devices of one account writing the same folder at once: compare-and-swap with
re-read and retry loses no entry, and both devices end up with a verified tree."""

from __future__ import annotations

import threading
from pathlib import Path

from blindvault.client.state import StateStore
from blindvault.client.vault import Vault
from helpers.client import Server


def test_two_devices_write_one_folder(server: Server, tmp_path: Path) -> None:
    email = "concurrent@example.org"
    laptop, words = Vault.signup(server.url, email, "pw", store=StateStore(tmp_path / "laptop"))
    assert len(words) == 24
    phone = Vault.open(server.url, email, "pw", store=StateStore(tmp_path / "phone"))
    errors: list[BaseException] = []

    def writer(vault: Vault, prefix: str) -> None:
        try:
            for i in range(10):
                f = tmp_path / f"{prefix}{i}.txt"
                f.write_text(f"{prefix} {i}")
                vault.put(f, "/")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=writer, args=(v, p)) for v, p in ((laptop, "l"), (phone, "p"))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a thread did not finish"
    assert errors == []
    names = {e.name for e in laptop.ls("/")}
    assert names == {f"{p}{i}.txt" for p in "lp" for i in range(10)}
    assert {e.name for e in phone.ls("/")} == names
    for vault in (laptop, phone):
        folders, files, problems = vault.verify()
        assert (folders, files, problems) == (1, 20, [])
        vault.close()
