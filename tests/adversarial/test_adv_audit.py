"""Issue 20: `blindvault audit` recomputes the hash chain and pins the head it saw; a server
that breaks, edits or rewinds the log is caught (exit 10, pin unchanged)."""

from __future__ import annotations

import json
from typing import Any

from blindvault.client.audit import ZERO, entry_hash
from helpers.adversarial import Runner, attack
from helpers.proxy import Proxy, on_json


def _rechain(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a server that rewrites history consistently would send."""
    prev = ZERO
    for n, e in enumerate(entries, start=1):
        e["seq"], e["prev_hash"] = n, prev
        e["hash"] = prev = entry_hash(prev, n, e["at"], e["event"], e["detail"])
    return entries


def _honest(bv: Runner) -> dict[str, Any]:
    rc, out, err = bv("audit", "--json")
    assert rc == 0, err
    doc: dict[str, Any] = json.loads(out)
    assert doc["verified"] and doc["entries"][0]["event"] == "signup"
    return doc


def test_rewound_log_is_reported(bv: Runner, proxy: Proxy) -> None:
    doc = _honest(bv)
    assert doc["head"]["seq"] >= 2
    proxy.add(on_json("GET", "/v1/audit", lambda d: {"entries": d["entries"][:-1]}))
    attack(bv, proxy, ["audit"], 10)
    rc, _, err = bv("audit")
    assert rc == 10 and "rewound" in err


def test_consistent_rewrite_of_seen_history_is_reported(bv: Runner, proxy: Proxy) -> None:
    _honest(bv)

    def rewrite(d: dict[str, Any]) -> dict[str, Any]:
        entries = [e for e in d["entries"] if e["event"] != "signup"] + d["entries"][:1]
        entries[0]["detail"] = {"address": "203.0.113.9"}
        return {"entries": _rechain(entries)}

    proxy.add(on_json("GET", "/v1/audit", rewrite))
    attack(bv, proxy, ["audit"], 10)


def test_broken_chain_is_reported_even_on_first_look(bv: Runner, proxy: Proxy) -> None:
    def edit(d: dict[str, Any]) -> dict[str, Any]:
        d["entries"][0]["detail"] = {"address": "203.0.113.9"}  # hash left as it was
        return d

    proxy.add(on_json("GET", "/v1/audit", edit))
    attack(bv, proxy, ["audit"], 10)

    def relink(d: dict[str, Any]) -> dict[str, Any]:
        d["entries"] = d["entries"][1:]  # the first entry dropped: seq 2 does not follow on
        return d

    proxy.reset()
    proxy.add(on_json("GET", "/v1/audit", relink))
    attack(bv, proxy, ["audit"], 10)


def test_new_entries_after_the_pin_are_accepted(bv: Runner) -> None:
    first = _honest(bv)
    assert bv("ls", "/")[0] == 0
    second = _honest(bv)
    assert second["head"]["seq"] >= first["head"]["seq"]
