from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EXTERNAL = Path(__file__).parents[1] / "vectors" / "external"


def load(relative: str) -> Any:
    return json.loads((EXTERNAL / relative).read_text(encoding="utf-8"))


def wycheproof_tests(name: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(group, test) pairs of one Wycheproof file."""
    data = load(f"wycheproof/{name}")
    return [(g, t) for g in data["testGroups"] for t in g["tests"]]
