"""The department's signing key and the certificates a signature is checked against.

In production both come from the environment: `PORTAL_SIGNING_P12` (a PKCS#12 file holding the
key, its certificate and the chain) with `PORTAL_SIGNING_P12_PASSWORD`, and `PORTAL_TRUST_ROOTS`
(PEM file of the root certificates verifiers should trust). Without them, a demo CA and a signing
certificate are generated once under the data directory, so development and tests sign for real.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
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
        ensure_demo_keys(Path(signing.p12_path).parent, config["DEPARTMENT_NAME"], config["PROVINCE_NAME"],
                         pki_url=config.get("DEMO_PKI_URL"))
    return signing


def _name(common_name: str, organisation: str, province: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, province),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


DEMO_CA_KEY = "demo-ca-key.pem"   # the demo CA's key: it signs the demo CRL
DEMO_TSA = "demo-tsa.p12"          # the demo time-stamping authority's key and certificate
DEMO_CRL = "demo-ca.crl"           # the name the demo CRL is served under (demo_pki.py)
DEMO_REVOKED = "demo-ca-revoked.json"
CRL_VALID_HOURS = 24               # a demo CRL's nextUpdate: a day after it is issued


def _issued(subject: x509.Name, key, ca_cert: x509.Certificate, ca_key, start: datetime, end: datetime,
            usages: list, crl_url: str | None, time_stamping: bool = False) -> x509.Certificate:
    """A certificate the demo CA issues, naming where its CRL is published when there is a place.
    A time-stamping authority's has that usage alone, critical (RFC 3161 §2.3), and no
    non-repudiation: it vouches for a time, not for a content."""
    key_usage = x509.KeyUsage(digital_signature=True, content_commitment=not time_stamping, key_encipherment=False,
                              data_encipherment=False, key_agreement=False, key_cert_sign=False,
                              crl_sign=False, encipher_only=False, decipher_only=False)
    builder = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(ca_cert.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=time_stamping)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    if crl_url:
        builder = builder.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(crl_url)], relative_name=None, reasons=None,
            crl_issuer=None)]), critical=False)
    return builder.sign(ca_key, hashes.SHA256())


def _write_private(path: Path, data: bytes) -> None:
    """Written to a temporary name and moved into place, so a half-made set is never picked up."""
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def ensure_demo_keys(folder: Path, department: str, province: str, valid_from: datetime | None = None,
                     pki_url: str | None = None) -> bool:
    """Generate the demo PKI in `folder` unless it is there: a CA, the department's signing
    certificate, a time-stamping authority's certificate (RFC 3161) and the CA's key to sign its
    CRL. True if made. With `pki_url`, the certificates name `<pki_url>/demo-ca.crl` as where
    their revocation list is published (demo_pki.py serves it there).

    They are valid from yesterday, or from `valid_from` if earlier (tests that travel in time check
    copies at instants before the day they run), until ten years (the CA; the TSA a day less) and
    five years (the signing certificate) after yesterday."""
    if (folder / DEMO_P12).exists() and (folder / DEMO_CA).exists():
        return False  # a set made before there was a demo TSA, or restored from a backup, is kept
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC) - timedelta(days=1)
    start = min(now, valid_from) if valid_from else now
    crl_url = f"{pki_url.rstrip('/')}/{DEMO_CRL}" if pki_url else None
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
    cert = _issued(_name(department, department, province), key, ca_cert, ca_key, start,
                   now + timedelta(days=1825),
                   [ExtendedKeyUsageOID.EMAIL_PROTECTION, x509.ObjectIdentifier("1.3.6.1.4.1.311.10.3.12")],
                   crl_url)  # the last: document signing
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tsa_cert = _issued(_name("Dịch vụ cấp dấu thời gian thử nghiệm (demo TSA)", "Demo CA", province), tsa_key,
                       ca_cert, ca_key, start, now + timedelta(days=3649), [ExtendedKeyUsageOID.TIME_STAMPING],
                       crl_url, time_stamping=True)
    password = serialization.BestAvailableEncryption(DEMO_PASSWORD.encode())
    _write_private(folder / DEMO_CA_KEY, ca_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, password))
    _write_private(folder / DEMO_TSA, pkcs12.serialize_key_and_certificates(
        b"demo-tsa", tsa_key, tsa_cert, [ca_cert], password))
    _write_private(folder / DEMO_CA, ca_cert.public_bytes(serialization.Encoding.PEM))
    _write_private(folder / DEMO_REVOKED, b"[]")
    # The signing bundle last: its presence is what says the set is complete.
    _write_private(folder / DEMO_P12, pkcs12.serialize_key_and_certificates(b"demo-signer", key, cert, [ca_cert],
                                                                            password))
    return True


def revoke_demo_certificate(folder: Path, serial: int, revoked_at: datetime, reason: str = "key_compromise") -> None:
    """Put a certificate the demo CA issued on its revocation list, revoked since `revoked_at`
    (a CA may date a key compromise back to when it happened)."""
    path = folder / DEMO_REVOKED
    revoked = json.loads(path.read_text()) if path.exists() else []
    revoked.append({"serial": serial, "at": revoked_at.astimezone(UTC).isoformat(), "reason": reason})
    _write_private(path, json.dumps(revoked).encode())


@lru_cache(maxsize=4)
def _demo_ca(folder: Path):
    """The demo CA's certificate and key, read once (the key's encryption makes reading it slow)."""
    return (x509.load_pem_x509_certificate((folder / DEMO_CA).read_bytes()),
            serialization.load_pem_private_key((folder / DEMO_CA_KEY).read_bytes(), DEMO_PASSWORD.encode()))


def demo_crl(folder: Path, now: datetime | None = None) -> bytes:
    """The demo CA's CRL as of `now` (DER), signed afresh: valid CRL_VALID_HOURS hours."""
    now = now or datetime.now(UTC)
    ca_cert, ca_key = _demo_ca(folder)
    builder = (x509.CertificateRevocationListBuilder().issuer_name(ca_cert.subject)
               .last_update(now - timedelta(minutes=1)).next_update(now + timedelta(hours=CRL_VALID_HOURS))
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                              critical=False)
               .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False))
    for entry in json.loads((folder / DEMO_REVOKED).read_text() or "[]"):
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(entry["serial"])
            .revocation_date(datetime.fromisoformat(entry["at"]))
            .add_extension(x509.CRLReason(x509.ReasonFlags[entry["reason"]]), critical=False).build())
    return builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def load_trust_roots(path: str) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(Path(path).read_bytes()) if path and Path(path).is_file() else []


def fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()
