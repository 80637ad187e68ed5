"""What every page the server ships pins its code with (shared by page, webapp, sw).

Subresource Integrity values (SHA-384), CSP source hashes (SHA-256) of the one inline
import map a page may hold, and the check that a rendered page has exactly that: no
unfilled placeholder and one import map. Not a router."""

from __future__ import annotations

import base64
import hashlib
import re

__all__ = ["csp_hash", "import_map", "sri"]


def sri(data: bytes) -> str:
    """The Subresource Integrity value of `data` (SHA-384)."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")


def csp_hash(text: str) -> str:
    """The CSP source expression allowing exactly the inline script `text`."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def import_map(html: str, page: str) -> str:
    """The text of the rendered `html`'s one import map (RuntimeError unless it has exactly
    one and no placeholder is left unfilled)."""
    if "{{" in html:
        raise RuntimeError(f"{page} has an unfilled placeholder")
    inline = re.findall(r'<script type="importmap">(.*?)</script>', html, flags=re.DOTALL)
    if len(inline) != 1:
        raise RuntimeError(f"{page} must hold exactly one import map")
    return str(inline[0])
