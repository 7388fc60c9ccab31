"""The demo PKI's public side in its own process on 127.0.0.1 (portal/copies/demo_pki.py): a real
RFC 3161 time-stamping authority at /tsa and the demo CA's CRL, signed afresh on every request."""

from __future__ import annotations

import socket
from pathlib import Path

from .loopback_service import LoopbackService

DEPARTMENT = "Sở Khoa học và Công nghệ tỉnh Quảng Ngãi"


def free_port() -> int:
    """A port nothing listens on now: the certificates name it before the server takes it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PkiService(LoopbackService):
    module = "portal.copies.demo_pki"

    def __init__(self, workdir: Path, delay: float = 0.0, label: str = "pki"):
        super().__init__(workdir)
        self.keys = workdir / f"{label}-keys"
        self.delay = delay
        self.label = label

    def arguments(self) -> list[str]:
        return ["--keys", str(self.keys), *(["--delay", str(self.delay)] if self.delay else [])]

    def make_keys(self, valid_from) -> None:
        """A demo PKI of its own, its certificates naming this server's CRL address."""
        from portal.copies.keys import ensure_demo_keys

        self.port = self.port or free_port()
        ensure_demo_keys(self.keys, DEPARTMENT, "Quảng Ngãi", valid_from=valid_from, pki_url=self.base)

    @property
    def tsa_url(self) -> str:
        return f"{self.base}/tsa"

    def settings(self) -> dict:
        """What an app signing with this PKI and asking this authority is configured with."""
        from portal.copies.keys import DEMO_CA, DEMO_P12, DEMO_PASSWORD

        return {"SIGNING_P12": str(self.keys / DEMO_P12), "SIGNING_P12_PASSWORD": DEMO_PASSWORD,
                "TRUST_ROOTS": str(self.keys / DEMO_CA), "TSA_URL": self.tsa_url, "TSA_TIMEOUT": 2,
                "REVOCATION_CACHE_SECONDS": 0}

    def signer_certificate(self):
        from cryptography.hazmat.primitives.serialization import pkcs12

        from portal.copies.keys import DEMO_P12, DEMO_PASSWORD

        return pkcs12.load_key_and_certificates((self.keys / DEMO_P12).read_bytes(), DEMO_PASSWORD.encode())[1]

    def revoke_signer(self, at) -> None:
        from portal.copies.keys import revoke_demo_certificate

        revoke_demo_certificate(self.keys, self.signer_certificate().serial_number, at)
