"""Checking a signed PDF: intact, signed when (its timestamp), by whom, and whether that
certificate was valid at that time, with the validation data the file carries and the current
CRLs. Runs in the rendering process (answers.py asks it through worker.run): an uploaded file is
a stranger's, and is never parsed in a web worker.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from .. import wording
from ..timeutil import to_local
from . import ltv
from .keys import fingerprint, load_trust_roots


@lru_cache(maxsize=4)
def _roots(path: str, mtime: float) -> tuple:
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives.serialization import Encoding

    return tuple(asn1_x509.Certificate.load(c.public_bytes(Encoding.DER)) for c in load_trust_roots(path))


def trust_roots(path: str) -> tuple:
    """The configured roots as asn1crypto certificates, read once per process (again if changed)."""
    try:
        return _roots(path, Path(path).stat().st_mtime) if path else ()
    except FileNotFoundError:
        return ()


@dataclass
class SignatureCheck:
    """What a verifier learns from a PDF's own signature."""

    readable: bool = False
    signed: bool = False
    intact: bool = False          # the signed bytes are unchanged
    whole_file: bool = False      # and nothing was added after signing
    trusted: bool = False         # the certificate chains to a root we trust
    signer_cert_sha256: str = ""
    signer_name: str = ""
    signed_at: str = ""           # the time the signer wrote (its own clock: a claim, not proof)
    # The signature timestamp (RFC 3161) the file carries, and whether its token is intact and its
    # authority chains to a trust root: the proven time of signing.
    timestamped: bool = False
    timestamp_at: str = ""        # ISO 8601, Asia/Ho_Chi_Minh
    timestamp_authority: str = ""
    timestamp_trusted: bool = False
    long_term: bool = False       # the file carries the validation data to check it offline (B-LT)
    archival: bool = False        # and a document timestamp over it all (B-LTA)
    # Whether the signer's certificate was in its validity period and not revoked at the time the
    # timestamp states (None without a timestamp from an authority chaining to the roots, or when
    # the data cannot tell), and if not, why.
    valid_when_signed: bool | None = None
    certificate_problem: str = ""


def check_signature(data: bytes, trust_roots_path: str,
                    revocation: ltv.TimestampConfig | None = None) -> SignatureCheck:
    """Validate the last signature of a PDF against the configured trust roots: intact, signed
    when (its timestamp), by whom, and whether that certificate was valid at that time.

    The file's own validation data (its DSS) is used, plus the current CRLs of its certificates
    when they can be fetched (`revocation`: timeout and reuse; None: offline): a certificate
    revoked after the signing time leaves the signature valid, one revoked before does not."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    check = SignatureCheck()
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_regular_signatures
    except Exception:  # noqa: BLE001 - an uploaded file may be anything
        return check
    check.readable = True
    if not signatures:
        return check
    check.signed = True
    signature = signatures[-1]
    roots = list(trust_roots(trust_roots_path))
    try:
        carried = carried_validation_data(reader)
        context = validation_context(roots, carried, revocation_mode="soft-fail")
        status = validate_pdf_signature(signature, context, ts_validation_context=context)
    except Exception:  # noqa: BLE001 - a malformed signature is simply not intact
        return check
    check.intact = bool(status.intact and status.valid)
    # Nothing added after signing but, for B-LTA, validation data and document timestamps.
    check.whole_file = check.intact and (status.coverage == SignatureCoverageLevel.ENTIRE_FILE or (
        status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
        and status.modification_level == ModificationLevel.LTA_UPDATES))
    check.signer_cert_sha256 = fingerprint(status.signing_cert.dump())
    check.signer_name = ltv.authority_name(status.signing_cert)
    if status.signer_reported_dt:
        check.signed_at = status.signer_reported_dt.isoformat(timespec="seconds")
    stamp = status.timestamp_validity
    certs = [status.signing_cert, *signature.other_embedded_certs, *carried["certs"], *_token_certs(signature)]
    check.trusted = _chains_to(status.signing_cert, roots, certs,
                               stamp.timestamp if stamp is not None else status.signer_reported_dt)
    check.long_term = bool(carried["crls"] or carried["ocsps"])
    check.archival = any(ts.signed_revision > signature.signed_revision for ts in reader.embedded_timestamp_signatures)
    if stamp is None:
        return check
    check.timestamped = True
    check.timestamp_at = _local_iso(stamp.timestamp)
    check.timestamp_authority = ltv.authority_name(stamp.signing_cert)
    if not (stamp.intact and stamp.valid and check.intact):
        return check
    # Current CRLs only of the certificates that chain to the configured roots: the addresses come
    # from the file, and a stranger's certificate must not make the portal fetch where it says.
    stamper_chains = _chains_to(stamp.signing_cert, roots, certs, stamp.timestamp)
    vouched = [cert for cert, ok in ((status.signing_cert, check.trusted), (stamp.signing_cert, stamper_chains)) if ok]
    fresh = ltv.crls_for(vouched, revocation.timeout, revocation.cache_seconds, quiet=True) if revocation else []
    # The authority is judged at the time it stamped, on the configured roots only, as the
    # signer is: years later its CRL in the file is old, and a document timestamp (B-LTA) is what
    # carries the proof further.
    stamped_ok, _ = _valid_at(stamp.signing_cert, stamp.timestamp, roots, certs, carried, fresh)
    check.timestamp_trusted = stamper_chains and stamped_ok is True
    if not check.timestamp_trusted:
        return check  # a time no trusted authority vouches for proves nothing
    # The signer: on the path to the configured roots, or when there is none, to the root the file
    # itself carries (whether that root is to be trusted is the `trusted` answer).
    anchors = roots if check.trusted else [c for c in certs if c.self_signed != "no"]
    check.valid_when_signed, check.certificate_problem = _valid_at(status.signing_cert, stamp.timestamp, anchors,
                                                                   certs, carried, fresh)
    return check


def _token_certs(signature) -> list:
    """The certificates the signature's timestamp token carries (the authority's chain)."""
    from pyhanko.sign.validation.generic_cms import extract_tst_data_iter

    return [choice.chosen for token in extract_tst_data_iter(signature.signer_info, signed=False)
            for choice in token["certificates"] or [] if choice.name == "certificate"]


def carried_validation_data(reader) -> dict:
    """The certificates, CRLs and OCSP answers in the file's document security store."""
    from asn1crypto import crl as asn1_crl
    from asn1crypto import ocsp as asn1_ocsp
    from pyhanko.sign.validation.dss import DocumentSecurityStore, NoDSSFoundError

    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        return {"certs": [], "crls": [], "ocsps": []}
    return {"certs": list(dss.load_certs()),
            "crls": [asn1_crl.CertificateList.load(ref.get_object().data) for ref in dss.crls],
            "ocsps": [asn1_ocsp.OCSPResponse.load(ref.get_object().data) for ref in dss.ocsps]}


def validation_context(roots, carried: dict, extra_crls=(), **options):
    from pyhanko_certvalidator import ValidationContext

    return ValidationContext(trust_roots=roots, other_certs=carried["certs"], crls=[*carried["crls"], *extra_crls],
                             ocsps=carried["ocsps"], allow_fetching=False, **options)


def _chains_to(cert, roots, certs, moment: datetime | None) -> bool:
    """Whether `cert` chains to one of the configured roots, every signature on the way checked,
    at `moment` (the signing time as best known): whether the certificate was still valid or
    revoked then is `_valid_at`'s answer, not this one."""
    import asyncio

    from pyhanko_certvalidator import CertificateValidator, ValidationContext

    if not roots:
        return False
    context = ValidationContext(trust_roots=roots, other_certs=certs, allow_fetching=False, moment=moment,
                                revocation_mode="soft-fail")
    try:
        asyncio.run(CertificateValidator(cert, intermediate_certs=certs, validation_context=context)
                    .async_validate_path())
        return True
    except Exception:  # noqa: BLE001 - no path is the answer
        return False


def _valid_at(cert, moment: datetime, anchors, certs, carried: dict, fresh) -> tuple[bool | None, str]:
    """Was `cert` in its validity period and not revoked at `moment`, on a path to `anchors`?
    True, False (and why, in Vietnamese), or None when the data cannot tell."""
    import asyncio

    from pyhanko_certvalidator import CertificateValidator
    from pyhanko_certvalidator.errors import (
        ExpiredError,
        InsufficientRevinfoError,
        NotYetValidError,
        RevokedError,
    )

    context = validation_context(anchors, carried, fresh, moment=moment, retroactive_revinfo=True,
                       revocation_mode="hard-fail")
    try:
        asyncio.run(CertificateValidator(cert, intermediate_certs=certs, validation_context=context)
                    .async_validate_usage(set()))
        return True, ""
    except RevokedError as err:
        return False, f"Chứng thư số đã bị thu hồi từ {wording.moment(err.revocation_dt)}, trước thời điểm ký."
    except (ExpiredError, NotYetValidError):
        return False, "Chứng thư số không còn (hoặc chưa) có hiệu lực vào thời điểm ký."
    except InsufficientRevinfoError:
        return None, "Không có đủ dữ liệu thu hồi để khẳng định chứng thư số còn hiệu lực vào thời điểm ký."
    except Exception:  # noqa: BLE001 - no path, a broken chain: not proven either way
        return None, "Không kiểm tra được chuỗi chứng thư số vào thời điểm ký."


def _local_iso(instant: datetime) -> str:
    return to_local(instant).isoformat(timespec="seconds")
