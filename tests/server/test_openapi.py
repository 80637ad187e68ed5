"""The OpenAPI served by a real server process describes every answer, and `docs/api.md`
agrees with it: the same endpoints, the same success status, the same answer fields."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers.real_server import Real, real_server

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"
# served outside the schema on purpose (the link page, the web app, the service worker)
UNLISTED = {
    ("GET", "/s/{}"),
    ("GET", "/app/"),
    ("GET", "/app/{}"),
    ("GET", "/sw.js"),
    ("GET", "/sw/{}"),
    ("GET", "/sw-dl/{}"),
    ("GET", "/sw-media/{}"),
}
_ROW = re.compile(r"^\| `(GET|POST|PUT|DELETE|HEAD|PATCH) (/[^` ?]*)[^`]*` \|(.*)$", re.M)


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    real: Real
    with real_server(tmp_path_factory.mktemp("openapi"), None) as real:
        answer = httpx.get(f"{real.url}/openapi.json", timeout=30)
        assert answer.status_code == 200
        yield answer.json()


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def _operations(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), _shape(path)): op
        for path, item in spec["paths"].items()
        for method, op in item.items()
    }


def _success(op: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {code: r for code, r in op["responses"].items() if code.startswith("2")}


def _schema(spec: dict[str, Any], ref: str) -> dict[str, Any]:
    schema: dict[str, Any] = spec
    for part in ref.removeprefix("#/").split("/"):
        schema = schema[part]
    return schema


def test_every_success_answer_has_a_schema(spec: dict[str, Any]) -> None:
    checked = 0
    for (method, path), op in _operations(spec).items():
        success = _success(op)
        assert success, f"{method} {path}: no 2xx answer described"
        for code, response in success.items():
            content = response.get("content", {})
            if code == "204":
                assert not content, f"{method} {path}: a 204 has no body"
                continue
            assert content, f"{method} {path} {code}: no content described"
            if "application/octet-stream" in content:
                continue  # bytes (blobs, framed batches): no JSON schema to give
            ref = content["application/json"]["schema"].get("$ref")
            assert ref, f"{method} {path} {code}: the JSON answer has no response model"
            assert _schema(spec, ref)["properties"], f"{method} {path}: an empty model"
            checked += 1
    print(f"{checked} JSON answers, each with its response model")
    assert checked >= 30


def _documented() -> dict[tuple[str, str], str]:
    rows = {(m, _shape(p)): rest for m, p, rest in _ROW.findall(DOCS.read_text())}
    assert len(rows) > 40
    return rows


def test_docs_list_exactly_the_served_endpoints(spec: dict[str, Any]) -> None:
    served = set(_operations(spec))
    documented = set(_documented()) - UNLISTED
    assert sorted(served - documented) == [], "served but not in docs/api.md"
    assert sorted(documented - served) == [], "in docs/api.md but not served"


def _answer(row: str) -> str:
    """What the row says the answer is: the text after its arrow, up to the first `;`."""
    return row.split("→", 1)[1].split(";", 1)[0] if "→" in row else ""


def _documented_status(row: str) -> str:
    found = re.match(r"\s*(2\d\d)\b", _answer(row))
    return found.group(1) if found else "200"


def _top_fields(answer: str) -> set[str] | None:
    """The top-level field names of the first `{…}` in the answer, or None if none."""
    start = answer.find("`{")
    if start < 0:
        return None
    depth, fields, current = 0, [], ""
    for ch in answer[start + 1 :]:
        if ch in "{[":
            depth += 1
            if depth == 1:
                continue
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                fields.append(current)
                break
        if depth == 1:
            if ch == ",":
                fields.append(current)
                current = ""
            else:
                current += ch
    return {re.split(r"[:?\s]", f.strip(), maxsplit=1)[0] for f in fields if f.strip()}


def test_docs_give_each_answer_its_status_and_fields(spec: dict[str, Any]) -> None:
    ops = _operations(spec)
    for key, row in _documented().items():
        if key in UNLISTED:
            continue
        success = _success(ops[key])
        status = _documented_status(row)
        assert status == min(success), f"{key}: docs say {status}, served {sorted(success)}"
        content = success[status].get("content", {})
        if "application/json" not in content:
            continue
        ref = content["application/json"]["schema"].get("$ref")
        assert ref, f"{key}: the JSON answer has no response model"
        props = set(_schema(spec, ref)["properties"])
        fields = _top_fields(_answer(row))
        assert fields == props, (
            f"{key}: docs list {sorted(fields or ())}, model has {sorted(props)}"
        )


def test_every_refusal_has_the_one_error_shape(spec: dict[str, Any]) -> None:
    for (method, path), op in _operations(spec).items():
        for code, response in op["responses"].items():
            if code[0] in "45":
                ref = response["content"]["application/json"]["schema"].get("$ref", "")
                assert ref.endswith("/ErrorAnswer"), f"{method} {path} {code}: {ref}"
        assert "4XX" in op["responses"], f"{method} {path}: refusals not described"
