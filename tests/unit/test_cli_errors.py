"""The CLI's one error report: typed failures become messages and exit codes; anything
else is a bug, shown with its traceback and a request to report it."""

from __future__ import annotations

import pytest

from blindvault.cli.errors import exit_code, report
from blindvault.client.net.answers import as_int, parse_answer, parse_model
from blindvault.errors import CredentialError, FormatError, NotFoundError, PathNotFoundError
from blindvault.wire.records import Record


def test_a_local_path_miss_is_exit_4_without_an_http_status(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert report("ls", PathNotFoundError("no such file or folder: /x")) == 4
    err = capsys.readouterr().err
    assert err == "blindvault ls: no such file or folder: /x\n"
    assert exit_code(NotFoundError(404, "not_found", "gone")) == 4
    assert report("ls", CredentialError("not logged in: run `blindvault login` first")) == 3
    assert capsys.readouterr().err.endswith("first\n")  # no "(401 not_logged_in)"


def test_a_bug_prints_its_traceback_and_asks_for_a_report(
    capsys: pytest.CaptureFixture[str],
) -> None:
    try:
        {}["missing"]
    except KeyError as exc:
        code = report("put", exc)
    assert code == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "KeyError" in err
    assert "this is a bug in blindvault: please report it" in err
    assert "malformed answer" not in err


def test_malformed_answers_are_one_typed_error() -> None:
    answer = parse_answer(b'{"version": null, "nested": {"a": 1}}')
    with pytest.raises(FormatError):
        answer["data"]
    with pytest.raises(FormatError):
        answer["nested"]["b"]
    with pytest.raises(FormatError):
        as_int(answer["version"])
    with pytest.raises(FormatError):
        parse_answer(b"[1, 2]")
    with pytest.raises(FormatError):
        parse_answer(b"<html>")
    with pytest.raises(FormatError):
        parse_model({"kind": "manifest", "id": "x", "version": None, "data": "AA=="}, Record)
    with pytest.raises(FormatError):  # nothing coerced: 3.0 is not 3
        parse_model({"kind": "m", "id": "x", "version": 3.0, "data": ""}, Record)
    assert parse_model({"kind": "m", "id": "x", "version": 3, "data": ""}, Record).version == 3


def test_the_http_client_takes_an_injected_transport() -> None:
    """No server process: an in-process transport answers, and its answers are parsed and
    its errors translated like the network's."""
    import httpx

    from blindvault.client.net.http import ApiClient
    from blindvault.errors import ForbiddenError, GoneError

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/records/manifest/x":
            return httpx.Response(200, json={"kind": "manifest", "id": "x", "version": 2})
        if request.url.path == "/gone":
            return httpx.Response(410, json={"error": {"code": "expired", "message": "no"}})
        return httpx.Response(403, json={"error": {"code": "read_only", "message": "no"}})

    api = ApiClient("http://127.0.0.1:9", transport=httpx.MockTransport(answer))
    with pytest.raises(FormatError):  # no "data": malformed, not a KeyError
        api.get_as(Record, "/v1/records/manifest/x")
    with pytest.raises(GoneError):
        api.get_json("/gone")
    with pytest.raises(ForbiddenError):
        api.get_json("/other")
    api.close()
