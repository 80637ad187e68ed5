"""The server's certificate authority (issue 17, part 3): an Ed25519 key held in a PKCS#11
token (an HSM; SoftHSM2 in the tests), used through python-pkcs11 with CKM_EDDSA.

The key never leaves the token: `create` generates it there, and every certificate is
signed by the token. The server cannot verify anything (it imports no crypto); it writes
the bytes a client checks (`blindvault.core.certificate`, docs/spec §17):

    descriptor  = "BVCA" 0x01 || public[32] || policy u8 || created_ms u64 || sig[64]
    certificate = "BVCC" 0x01 || u16 len || email || fingerprint[32] || issued_ms u64
                  || sig[64]
    fingerprint = SHA-256("blindvault/v1/fingerprint" || 0x00 || bundle without its
                  64-byte self-signature)   (the client's own definition, spec §6)

The configuration (library, token, key label, policy, descriptor) lives in `ca.json` in the
data folder; the token PIN is read from `BLINDVAULT_CA_PIN` when the server starts and
is never written anywhere by blindvault.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pkcs11
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11.util.ec import encode_named_curve_parameters

__all__ = ["PIN_ENV", "CaConfig", "CaError", "CaSigner", "create", "load"]

PIN_ENV = "BLINDVAULT_CA_PIN"
CONFIG_NAME = "ca.json"
_ED25519_OID = "1.3.101.112"
_LABEL_FINGERPRINT = b"blindvault/v1/fingerprint"
_LABEL_CA_SIG = b"blindvault/v1/ca-sig"
_LABEL_CERT_SIG = b"blindvault/v1/identity-cert-sig"
_SIGNATURE = 64
POLICIES = {"re-verify": 0, "accept-certified-changes": 1}
SOFTHSM_MODULES = (  # where Debian puts SoftHSM2's PKCS#11 module
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
)


class CaError(Exception):
    """The token, its key or the configuration cannot be used (message safe to print)."""


@dataclass(frozen=True)
class CaConfig:
    pkcs11_lib: str
    token: str
    key_label: str
    policy: str
    public_key: str  # hex
    descriptor: str  # hex
    # the software option (`admin ca create --software`): a SoftHSM2 token under the data
    # folder, its configuration and PIN file next to it (the key is on this disk)
    softhsm2_conf: str = ""
    pin_file: str = ""

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, path)


def load(path: Path) -> CaConfig | None:
    if not path.exists():
        return None
    try:
        return CaConfig(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as exc:
        raise CaError(f"{path} is not a blindvault CA configuration") from exc


def fingerprint(bundle: bytes) -> bytes:
    return hashlib.sha256(_LABEL_FINGERPRINT + b"\x00" + bundle[:-_SIGNATURE]).digest()


def _token(lib_path: str, label: str) -> Any:
    try:
        return pkcs11.lib(lib_path).get_token(token_label=label)
    except (pkcs11.PKCS11Error, RuntimeError, OSError) as exc:
        raise CaError(f"cannot open token {label!r} with {lib_path}: {exc!r}") from None


class CaSigner:
    """Signs with the token's key; one session per signature, serialised."""

    def __init__(self, config: CaConfig, pin: str) -> None:
        self.config = config
        self._pin = pin
        self._token = _token(config.pkcs11_lib, config.token)
        self._lock = threading.Lock()
        self.descriptor = bytes.fromhex(config.descriptor)
        self.sign(b"blindvault: CA start-up check")  # fail at start, not at first use

    def __repr__(self) -> str:
        return f"CaSigner(token={self.config.token!r}, <pin redacted>)"

    def sign(self, message: bytes) -> bytes:
        try:
            with self._lock, self._token.open(user_pin=self._pin) as session:
                key = session.get_key(ObjectClass.PRIVATE_KEY, label=self.config.key_label)
                return bytes(key.sign(message, mechanism=Mechanism.EDDSA))
        except (pkcs11.PKCS11Error, RuntimeError) as exc:
            raise CaError(f"the CA token refused to sign: {type(exc).__name__}") from None

    def certificate(self, email: str, bundle: bytes, now_ms: int | None = None) -> bytes:
        """The CA's certificate over (email, the bundle's fingerprint, now)."""
        issued = int(time.time() * 1000) if now_ms is None else now_ms
        name = email.encode("utf-8")
        body = (
            b"BVCC\x01"
            + struct.pack(">H", len(name))
            + name
            + fingerprint(bundle)
            + struct.pack(">Q", issued)
        )
        return body + self.sign(_LABEL_CERT_SIG + b"\x00" + body)


def create(lib_path: str, token_label: str, pin: str, key_label: str, policy: str) -> CaConfig:
    """Generate the CA key pair inside the token and sign its descriptor with it."""
    if policy not in POLICIES:
        raise CaError(f"unknown policy {policy!r}")
    token = _token(lib_path, token_label)
    try:
        with token.open(user_pin=pin, rw=True) as session:
            existing = list(session.get_objects({Attribute.LABEL: key_label}))
            if existing:
                raise CaError(f"the token already holds a key labelled {key_label!r}")
            curve = encode_named_curve_parameters(_ED25519_OID)
            params = session.create_domain_parameters(
                KeyType.EC_EDWARDS, {Attribute.EC_PARAMS: curve}, local=True
            )
            public, private = params.generate_keypair(
                mechanism=Mechanism.EC_EDWARDS_KEY_PAIR_GEN, store=True, label=key_label
            )
            point = bytes(public[Attribute.EC_POINT])
            raw = point[2:] if len(point) == 34 and point[:2] == b"\x04\x20" else point
            if len(raw) != 32:
                raise CaError("the token returned an unexpected public key")
            body = b"BVCA\x01" + raw + bytes([POLICIES[policy]])
            body += struct.pack(">Q", int(time.time() * 1000))
            signature = bytes(
                private.sign(_LABEL_CA_SIG + b"\x00" + body, mechanism=Mechanism.EDDSA)
            )
    except pkcs11.PKCS11Error as exc:
        raise CaError(f"the token refused: {type(exc).__name__}") from None
    return CaConfig(lib_path, token_label, key_label, policy, raw.hex(), (body + signature).hex())


def from_data(data: Path) -> CaSigner | None:
    """The signer configured in `data/ca.json`, or None when there is none."""
    config = load(data / CONFIG_NAME)
    if config is None:
        return None
    if config.softhsm2_conf:  # read by SoftHSM2 when the module is loaded (once a process)
        os.environ["SOFTHSM2_CONF"] = config.softhsm2_conf
    pin = os.environ.get(PIN_ENV, "")
    if not pin and config.pin_file:
        try:
            pin = Path(config.pin_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise CaError(f"cannot read the CA PIN file {config.pin_file}: {exc}") from None
    if not pin:
        raise CaError(f"{data / CONFIG_NAME} configures a CA: set {PIN_ENV} to its token PIN")
    return CaSigner(config, pin)
