"""Pairing in tests: the signed-in device's side runs in a thread (it waits for the new one)."""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from typing import Any

from blindvault.client.vault import Vault


@dataclass
class SignedIn:
    """`devices add` on `vault`, in a thread: `code()` waits for the code it shows."""

    vault: Vault
    accept: bool = True
    codes: queue.Queue[str] = field(default_factory=queue.Queue)
    shown: list[str] = field(default_factory=list)
    code_shown: str = ""
    result: Any = None
    error: BaseException | None = None
    thread: threading.Thread | None = None

    def start(self) -> SignedIn:
        def confirm(confirmation: str, name: str) -> bool:
            self.shown.append(confirmation)
            return self.accept

        def show(code: str, _expires_at: float) -> None:
            self.code_shown = code
            self.codes.put(code)

        def run() -> None:
            try:
                self.result = self.vault.add_device(show=show, confirm=confirm, poll=0.05)
            except BaseException as exc:
                self.error = exc

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        return self

    def code(self) -> str:
        return self.codes.get(timeout=60)

    def join(self) -> None:
        assert self.thread is not None
        self.thread.join(timeout=60)
        assert not self.thread.is_alive()
