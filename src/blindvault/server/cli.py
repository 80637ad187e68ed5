"""`blindvault server`: one command, SQLite + local disk by default."""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import math
import os
import resource
import ssl
import sys
from pathlib import Path

from blindvault.server.logfilter import quiet_accept_errors
from blindvault.server.options import ServerOptions

DEFAULT_PORT = 8470


def default_data() -> Path:
    env = os.environ.get("BLINDVAULT_DATA")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "share") / "blindvault-server"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="blindvault server", description="Run the blindvault server.")
    p.add_argument(
        "--data",
        type=Path,
        default=None,
        help="data folder (SQLite + blobs); "
        "default $BLINDVAULT_DATA or ~/.local/share/blindvault-server",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    p.add_argument("--db", default=None, help="postgresql://… (default: SQLite in --data)")
    p.add_argument("--blobs", default=None, help="s3://BUCKET?endpoint=URL (default: --data)")
    p.add_argument("--tls-cert", type=Path, default=None)
    p.add_argument("--tls-key", type=Path, default=None)
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.add_argument(
        "--signup",
        default="open",
        choices=["open", "closed", "invite"],
        help="who may create an account: anyone (default), nobody, or holders of an invite "
        "code from `blindvault admin invite`",
    )
    p.add_argument(
        "--signups-per-address",
        type=int,
        default=int(os.environ.get("BLINDVAULT_SERVER_SIGNUPS_PER_ADDRESS") or 20),
        metavar="N",
        help="signup attempts one client address may make per hour "
        "(default $BLINDVAULT_SERVER_SIGNUPS_PER_ADDRESS or 20)",
    )
    p.add_argument(
        "--insecure-http",
        action="store_true",
        help="serve plain HTTP on a non-loopback --host (only behind a TLS-terminating proxy)",
    )
    d = ServerOptions()
    p.add_argument(
        "--header-timeout",
        type=_positive,
        default=d.header_timeout,
        help=f"seconds a request's headers may take (default {d.header_timeout:g})",
    )
    p.add_argument(
        "--body-timeout",
        type=_positive,
        default=d.body_timeout,
        help=f"seconds to wait for the next piece of a body (default {d.body_timeout:g})",
    )
    p.add_argument(
        "--max-connections",
        type=int,
        default=d.max_connections,
        help=f"connections served at once per process (default {d.max_connections})",
    )
    p.add_argument(
        "--token-ttl",
        type=_positive,
        default=d.token_ttl,
        help="seconds a device's sign-in stays valid (default 31536000, one year)",
    )
    return p


def _positive(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a number of seconds") from None
    if not math.isfinite(number) or number <= 0:
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return number


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _raise_fd_limit() -> None:
    """Use the hard limit on open files, so the connection cap, not the OS, refuses."""
    with contextlib.suppress(ValueError, OSError):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    if (args.tls_cert is None) != (args.tls_key is None):
        sys.stderr.write("blindvault server: --tls-cert and --tls-key go together\n")
        return 2
    if args.tls_cert is None and not _loopback(args.host) and not args.insecure_http:
        sys.stderr.write(
            f"blindvault server: refusing plain HTTP on {args.host}: give --tls-cert and "
            "--tls-key, or --insecure-http when a reverse proxy terminates TLS\n"
        )
        return 2
    if args.max_connections < 1:
        sys.stderr.write("blindvault server: --max-connections must be at least 1\n")
        return 2
    ServerOptions(
        header_timeout=args.header_timeout,
        body_timeout=args.body_timeout,
        max_connections=args.max_connections,
        token_ttl=args.token_ttl,
        tls=args.tls_cert is not None,
    ).to_env()  # read by every worker (asgi.py, protocol.py)
    _raise_fd_limit()
    quiet_accept_errors()
    data = args.data or default_data()
    os.environ["BLINDVAULT_SERVER_DATA"] = str(data)
    if args.db:
        os.environ["BLINDVAULT_SERVER_DB"] = args.db
    if args.blobs:
        os.environ["BLINDVAULT_SERVER_BLOBS"] = args.blobs
    if args.signups_per_address < 1:
        sys.stderr.write("blindvault server: --signups-per-address must be at least 1\n")
        return 2
    os.environ["BLINDVAULT_SERVER_SIGNUP"] = args.signup
    os.environ["BLINDVAULT_SERVER_SIGNUPS_PER_ADDRESS"] = str(args.signups_per_address)
    from blindvault.server.app import build
    from blindvault.server.domain.invites import limits_from_env

    # migrate once before workers start; fail fast
    build(data, args.db, args.blobs, limits_from_env(), options=ServerOptions.from_env())
    import uvicorn

    from blindvault.server.protocol import NoDelayHttpToolsProtocol

    scheme = "https" if args.tls_cert else "http"
    sys.stderr.write(f"blindvault server: {scheme}://{args.host}:{args.port}  (data: {data})\n")
    uvicorn.run(
        "blindvault.server.asgi:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        http=NoDelayHttpToolsProtocol,
        loop="auto",  # uvloop (a dependency) where the platform has it
        log_level=args.log_level,
        ssl_certfile=str(args.tls_cert) if args.tls_cert else None,
        ssl_keyfile=str(args.tls_key) if args.tls_key else None,
        ssl_version=ssl.PROTOCOL_TLS_SERVER,
        ssl_ciphers="ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!MD5",
        proxy_headers=False,
        server_header=False,
        limit_concurrency=args.max_connections,
        timeout_keep_alive=max(1, int(min(args.header_timeout, 5))),
    )
    return 0
