"""Whether the certificate that signed a PDF chains to the trust roots, whatever became of the
signed bytes. A verification's third answer (answers.py) is about who signed, not about the file,
but pyHanko judges trust only for a signature whose bytes are intact: for a file changed after
signing, this asks the chain alone. Runs in the rendering process, as every parse of an upload."""

from __future__ import annotations

import asyncio
import io

from .keys import load_trust_roots


def signer_chains_to_roots(data: bytes, trust_roots_path: str) -> bool:
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives.serialization import Encoding
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko_certvalidator import CertificateValidator, ValidationContext

    roots = [asn1_x509.Certificate.load(c.public_bytes(Encoding.DER)) for c in load_trust_roots(trust_roots_path)]
    try:
        signature = PdfFileReader(io.BytesIO(data), strict=False).embedded_regular_signatures[-1]
        certificate, others = signature.signer_cert, list(signature.other_embedded_certs)
    except Exception:  # noqa: BLE001 - an uploaded file may be anything
        return False
    if not roots or certificate is None:
        return False
    context = ValidationContext(trust_roots=roots, other_certs=others, allow_fetching=False,
                                revocation_mode="soft-fail")
    validator = CertificateValidator(certificate, intermediate_certs=others, validation_context=context)
    try:
        asyncio.run(validator.async_validate_usage(set()))
    except Exception:  # noqa: BLE001 - no path to a root, expired, revoked: not trusted
        return False
    return True
