"""The department's signing key and the certificates a signature is checked against.

In production both come from the environment: `PORTAL_SIGNING_P12` (a PKCS#12 file holding the
key, its certificate and the chain) with `PORTAL_SIGNING_P12_PASSWORD`, and `PORTAL_TRUST_ROOTS`
(PEM file of the root certificates verifiers should trust). Without them, a demo CA and a signing
certificate are generated once under the data directory, so development and tests sign for real.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEMO_P12 = "demo-signer.p12"
DEMO_CA = "demo-ca.pem"
DEMO_PASSWORD = "demo-signing-key"  # protects nothing real: the demo key signs demo copies only


@dataclass(frozen=True)
class SigningConfig:
    """Where the key is; picklable, so it can travel to the rendering process."""

    p12_path: str
    password: str
    trust_roots_path: str
    demo: bool


def signing_config(config: dict) -> SigningConfig:
    """From the app's configuration; the demo files under the data directory by default."""
    if config.get("SIGNING_P12"):
        return SigningConfig(config["SIGNING_P12"], config.get("SIGNING_P12_PASSWORD") or "",
                             config.get("TRUST_ROOTS") or "", demo=False)
    folder = Path(config["PORTAL_DATA_DIR"]) / "signing"
    return SigningConfig(str(folder / DEMO_P12), DEMO_PASSWORD,
                         config.get("TRUST_ROOTS") or str(folder / DEMO_CA), demo=True)


def ensure_signing_key(config: dict) -> SigningConfig:
    """The signing configuration, with the demo pair generated first if that is what it names."""
    signing = signing_config(config)
    if signing.demo:
        ensure_demo_keys(Path(signing.p12_path).parent, config["DEPARTMENT_NAME"], config["PROVINCE_NAME"])
    return signing


def _name(common_name: str, organisation: str, province: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, province),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def ensure_demo_keys(folder: Path, department: str, province: str, valid_from: datetime | None = None) -> bool:
    """Generate a demo CA and a signing certificate in `folder` unless they exist. True if made.

    They are valid from yesterday, or from `valid_from` if earlier (tests that travel in time check
    copies at instants before the day they run), until ten years (the CA) and five years (the
    signing certificate) after yesterday."""
    p12_path, ca_path = folder / DEMO_P12, folder / DEMO_CA
    if p12_path.exists() and ca_path.exists():
        return False
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC) - timedelta(days=1)
    start = min(now, valid_from) if valid_from else now
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = _name("CA thử nghiệm (demo) — không dùng thật", "Demo CA", province)
    ca_cert = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder().subject_name(_name(department, department, province)).issuer_name(ca_name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(now + timedelta(days=1825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION,
                                              x509.ObjectIdentifier("1.3.6.1.4.1.311.10.3.12")]),  # document signing
                       critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    bundle = pkcs12.serialize_key_and_certificates(
        b"demo-signer", key, cert, [ca_cert], serialization.BestAvailableEncryption(DEMO_PASSWORD.encode()))
    # Written to temporary names and moved into place, so a half-made pair is never picked up.
    for path, data in ((ca_path, ca_cert.public_bytes(serialization.Encoding.PEM)), (p12_path, bundle)):
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    return True


def load_trust_roots(path: str) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(Path(path).read_bytes()) if path and Path(path).is_file() else []


def fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()
