"""Server answers, parsed at one place.

An answer the client acts on is validated with its `blindvault.wire` model (`parse_model`);
any other JSON object becomes an `Answer`, a dict whose missing field raises `FormatError`
instead of `KeyError` (`as_int` and `as_str` read a field that must have that type). So a
server that leaves a field out or sends the wrong type is one typed error (a malformed
answer, CLI exit 9), never a crash and never mistaken for a bug in the client."""

from __future__ import annotations

import json
from typing import Any, TypeVar

import pydantic

from blindvault.errors import FormatError

__all__ = ["Answer", "as_int", "as_str", "parse_answer", "parse_model"]

M = TypeVar("M", bound=pydantic.BaseModel)


def parse_model(data: object, model: type[M]) -> M:
    """`data` (a parsed JSON answer) as a wire model, or `FormatError`.

    Strict: nothing is coerced (no "3" or 3.0 or true for 3), so what the client checks
    next (KDF parameters, versions) is exactly what the server sent."""
    try:
        return model.model_validate(data, strict=True)
    except pydantic.ValidationError:
        raise FormatError(f"the server sent a malformed answer ({model.__name__})") from None


class Answer(dict[str, Any]):
    """A JSON object from the server."""

    def __missing__(self, key: str) -> Any:
        raise FormatError(f"the server sent a malformed answer (no field {key!r})")


def parse_answer(raw: bytes) -> Answer:
    """The JSON object in `raw`, or `FormatError` (never a crash on bad JSON)."""
    try:
        data = json.loads(raw, object_hook=Answer)
    except (ValueError, RecursionError):
        raise FormatError("the server sent a malformed answer (not JSON)") from None
    if not isinstance(data, Answer):
        raise FormatError("the server sent a malformed answer (not a JSON object)")
    return data


def as_int(value: object) -> int:
    """A whole number the server sent (a JSON integer, or one written as text)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise FormatError("the server sent a malformed answer (expected a number)")
    try:
        return int(value)
    except ValueError:
        raise FormatError("the server sent a malformed answer (expected a number)") from None


def as_str(value: object) -> str:
    if not isinstance(value, str):
        raise FormatError("the server sent a malformed answer (expected text)")
    return value
