"""JS heap of a Chromium tab and of its workers, over the DevTools protocol (Playwright).

`HeapProbe.sample()` reads `Runtime.getHeapUsage` and `Performance.getMetrics`'
`JSHeapUsedSize` on the page, and `Runtime.getHeapUsage` on every dedicated and service
worker of the browser (attached through a browser session with
`Target.attachToTarget(flatten=false)` and `Target.sendMessageToTarget`), and keeps the
peak of each and of their sum. Used by `blindvault bench browser` and tests/web.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["HeapProbe", "Peaks"]

WORKER_TYPES = ("worker", "service_worker")


@dataclass
class Peaks:
    page: int = 0
    worker: int = 0
    service_worker: int = 0
    total: int = 0
    samples: int = 0

    def to_json(self) -> dict[str, float]:
        mib = 1024 * 1024
        return {
            "page_mib": round(self.page / mib, 1),
            "worker_mib": round(self.worker / mib, 1),
            "service_worker_mib": round(self.service_worker / mib, 1),
            "total_mib": round(self.total / mib, 1),
            "samples": self.samples,
        }


@dataclass
class HeapProbe:
    browser: Any
    context: Any
    page: Any
    peaks: Peaks = field(default_factory=Peaks)

    def __post_init__(self) -> None:
        self.page_cdp = self.context.new_cdp_session(self.page)
        self.page_cdp.send("Performance.enable")
        self.browser_cdp = self.browser.new_browser_cdp_session()
        self.browser_cdp.on("Target.receivedMessageFromTarget", self._reply)
        self.replies: dict[int, dict[str, Any]] = {}
        self.sessions: dict[str, tuple[str, str]] = {}  # target id -> (session, type)
        self.next_id = 1

    def reset(self) -> None:
        self.peaks = Peaks()

    def _reply(self, event: dict[str, Any]) -> None:
        msg = json.loads(event["message"])
        if "id" in msg:
            self.replies[msg["id"]] = msg.get("result", {})

    def _attach(self) -> None:
        infos = self.browser_cdp.send("Target.getTargets")["targetInfos"]
        live = {t["targetId"] for t in infos}
        self.sessions = {k: v for k, v in self.sessions.items() if k in live}
        for t in infos:
            if t["type"] in WORKER_TYPES and t["targetId"] not in self.sessions:
                try:
                    sid = self.browser_cdp.send(
                        "Target.attachToTarget", {"targetId": t["targetId"], "flatten": False}
                    )["sessionId"]
                except Exception:
                    continue
                self.sessions[t["targetId"]] = (sid, t["type"])

    def _heap(self, session: str) -> int:
        call = self.next_id
        self.next_id += 1
        message = json.dumps({"id": call, "method": "Runtime.getHeapUsage"})
        try:
            self.browser_cdp.send(
                "Target.sendMessageToTarget", {"sessionId": session, "message": message}
            )
        except Exception:
            return 0
        deadline = time.monotonic() + 5
        while call not in self.replies and time.monotonic() < deadline:
            self.page.wait_for_timeout(10)  # lets Playwright deliver the reply event
        return int(self.replies.pop(call, {}).get("usedSize", 0))

    def sample(self) -> Peaks:
        heap = int(self.page_cdp.send("Runtime.getHeapUsage")["usedSize"])
        metrics = self.page_cdp.send("Performance.getMetrics")["metrics"]
        page = max([heap] + [int(m["value"]) for m in metrics if m["name"] == "JSHeapUsedSize"])
        self._attach()
        by_type = {"worker": 0, "service_worker": 0}
        for session, kind in self.sessions.values():
            by_type[kind] += self._heap(session)
        p = self.peaks
        p.page = max(p.page, page)
        p.worker = max(p.worker, by_type["worker"])
        p.service_worker = max(p.service_worker, by_type["service_worker"])
        p.total = max(p.total, page + sum(by_type.values()))
        p.samples += 1
        return p
