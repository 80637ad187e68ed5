"""A signed-in page of the web vault in Chromium (tests/web): status, the Shared tab,
accepting a share, downloads; every JavaScript error on the page fails the test at close."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from helpers.web import PASSWORD, close_page


class HasUrl(Protocol):
    url: str


class Page:
    """A fresh browser profile (no pins) signed in (as Bob unless told); dialogs are accepted and kept."""

    def __init__(self, browser: Any, setup: HasUrl, email: str = "bob@example.org") -> None:
        self.context = browser.new_context(accept_downloads=True)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", self._dialog)
        self.page.goto(setup.url + "/app/")
        self.page.wait_for_selector("#sign-in:not([hidden])")
        self.page.fill("#email", email)
        self.page.fill("#password", PASSWORD)
        self.page.click("#sign-in-submit")
        assert "Signed in" in self.settled(), self.status()

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.accept()

    def status(self) -> str:
        return str(self.page.text_content("#status"))

    def settled(self) -> str:
        self.page.wait_for_selector(
            "#status[data-state=ok], #status[data-state=error]", timeout=120_000
        )
        self.page.wait_for_function("!document.getElementById('status').textContent.endsWith('…')")
        return self.status()

    def shared_tab(self) -> str:
        self.page.click("#tabs button[data-tab=shared]")
        return self.settled()

    def share(self, share_id: str) -> Any:
        return self.page.locator(f"#shared tr[data-id='{share_id}']")

    def accept(self, share_id: str) -> str:
        self.page.evaluate("document.getElementById('status').textContent = ''")
        self.share(share_id).locator("button[data-action=accept]").click()
        for _ in range(1200):  # polled here: the page's CSP forbids evaluating strings
            text = self.status()
            if text.startswith("Accept") and not text.endswith("…"):
                return text
            self.page.wait_for_timeout(100)
        raise AssertionError(f"no answer to the accept: {self.status()}")

    def download(self, locator: Any, to: Path) -> bytes:
        with self.page.expect_download(timeout=120_000) as info:
            locator.click()
        info.value.save_as(to)
        return to.read_bytes()

    def close(self) -> None:
        close_page(self)
