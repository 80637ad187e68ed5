"""Checked conversions of values that arrive inside bodies: ids, kinds, base64.

Ids in a URL path are typed by `deps` instead (`Annotated[str, Path(pattern=…)]`)."""

from __future__ import annotations

import base64
import binascii
import re

from blindvault.server.errors import ApiError, invalid
from blindvault.wire.common import ID_PATTERN, KIND_PATTERN

ID_RE = re.compile(ID_PATTERN)
KIND_RE = re.compile(KIND_PATTERN)


def check_id(value: str, what: str = "id") -> str:
    if not ID_RE.match(value):
        raise invalid(f"{what} must be 32 lowercase hex characters")
    return value


def check_kind(value: str) -> str:
    if not KIND_RE.match(value):
        raise invalid("kind must match [a-z][a-z0-9-]{0,31}")
    return value


def b64decode(value: str, what: str, *, max_size: int) -> bytes:
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise invalid(f"{what} must be base64") from None
    if len(raw) > max_size:
        raise ApiError(413, "too_large", f"{what} is larger than {max_size} bytes")
    return raw


def b64encode(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")
