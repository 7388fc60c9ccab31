"""Making a certified copy's PDF: render, merge, sign (with a timestamp and validation data when
an authority is configured); renewing a B-LTA copy's document timestamp. Checking one is
validation.py's.

These functions take and return plain data so that they can run in the rendering process
(`worker.py`): WeasyPrint and pyHanko stay out of the web workers.
"""

from __future__ import annotations

import io
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from . import ltv, validation
from .keys import SigningConfig, fingerprint

FONTS = Path(__file__).resolve().parent.parent / "fonts"
SIGNATURE_FIELD = "ChuKySo"
# The signature's appearance: top right of page one, in points from the bottom-left corner of A4.
# The certification page keeps this area empty (see templates/copies/certificate.html).
SIGNATURE_BOX = (335, 752, 567, 824)
# Room for the CMS container, reserved up front: pyHanko otherwise signs once more to measure it
# (and asks the time-stamping authority once more). A timestamp token carries the authority's
# certificates: room for chains of three or four certificates each.
SIGNATURE_BYTES = 12_288
TIMESTAMPED_SIGNATURE_BYTES = 24_576
DOCUMENT_TIMESTAMP_FIELD = "DauThoiGianLuuTru"


@dataclass(frozen=True)
class CopyJob:
    certificate_html: str      # the certification page, already rendered from its template
    original_path: str         # the stored result PDF, carried over page by page
    stamp_template: str        # e.g. "Mã xác thực {code} · Trang {page}/{pages}"
    code: str
    department: str
    signed_at: str             # ISO 8601, written in the signature's appearance
    location: str
    signing: SigningConfig
    timestamps: ltv.TimestampConfig = ltv.TimestampConfig()


@dataclass
class Sealed:
    """What the signing added besides the signature: the proven time and the validation data."""

    timestamped_at: datetime | None = None
    timestamp_authority: str | None = None
    long_term: bool = False
    archive_until: datetime | None = None  # B-LTA: the document timestamp's authority certificate expiry
    unstamped_reason: str = ""             # signed without a timestamp although one was configured: why


@dataclass
class Produced:
    pdf: bytes
    pages: int
    signer_cert_sha256: str
    pdfa: bool                 # declared PDF/A-2b (not when an original page lacks its fonts)
    timings: dict = field(default_factory=dict)
    sealed: Sealed = field(default_factory=Sealed)


class CopyFailed(Exception):
    """The copy could not be made; str() says why in Vietnamese."""


def _fetcher():
    """WeasyPrint may load our own fonts and data: URIs (the QR code), nothing else; a font it
    cannot load stops the rendering instead of silently falling back."""
    from urllib.request import url2pathname

    from weasyprint.urls import URLFetcher

    class FontsOnly(URLFetcher):
        def fetch(self, url, headers=None):
            if url.startswith("file:"):
                path = Path(url2pathname(url.split("?")[0].removeprefix("file:"))).resolve()
                if path.parent != FONTS or path.suffix != ".ttf":
                    raise ValueError(f"refused to fetch {url[:80]}")
            elif not url.startswith("data:"):
                raise ValueError(f"refused to fetch {url[:80]}")
            return super().fetch(url, headers)

    return FontsOnly(allowed_protocols=("file", "data"), fail_on_errors=True)


# The copy's stamp: in the bottom margin box of every page, at most this size, in a band this
# high at the page's foot (glyphs well inside the page), and narrower than the page by the sides.
STAMP_FONT = FONTS / "DejaVuSans.ttf"   # "Portal Sans" in templates/copies/fonts.css
STAMP_SIZE = 7.5
STAMP_BAND = 22.0
STAMP_SIDES = 12.0


@lru_cache(maxsize=1)
def _advances() -> tuple[dict[int, int], int, int]:
    """The stamp font's advance widths by code point, the fallback advance, and units per em."""
    from fontTools.ttLib import TTFont

    with TTFont(STAMP_FONT, lazy=True) as font:
        metrics = font["hmtx"].metrics
        widths = {cp: metrics[name][0] for cp, name in font.getBestCmap().items()}
        return widths, max(w for w, _ in metrics.values()), font["head"].unitsPerEm


def _stamp_width(text: str, size: float) -> float:
    """Width in points of `text` set in the stamp font (no kerning: DejaVu's only narrows it)."""
    widths, fallback, units = _advances()
    return sum(widths.get(ord(ch), fallback) for ch in text) * size / units


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _stamp_content(job: CopyJob) -> str:
    """The stamp as CSS generated content: WeasyPrint's page counters write "Trang i/n", i and n
    counting every page of the copy, however many pages the certification takes."""
    before, rest = job.stamp_template.format(code=job.code, page="\0", pages="\1").split("\0")
    middle, after = rest.split("\1")
    parts = [_css_string(before), "counter(page)", _css_string(middle), "counter(pages)"]
    return " ".join(parts + ([_css_string(after)] if after else []))


def _stamp_size(width: float, job: CopyJob, pages: int) -> float:
    """The stamp's font size on a page `width` points wide: one line, wholly inside the page.
    Measured with a page number a digit longer than `pages`, for a certification that runs over."""
    widest = "9" * (len(str(pages)) + 1)
    longest = job.stamp_template.format(code=job.code, page=widest, pages=widest)
    return max(0.5, min(STAMP_SIZE, (width - 2 * STAMP_SIDES) / _stamp_width(longest, 1.0)))


def _stamp_pages(sizes: list[tuple[float, float]], job: CopyJob) -> tuple[str, str]:
    """The stamp of every page, and one empty page per original page, of its size, for the
    original to be laid under (`_merge`). The stamp sits in each page's bottom margin box, not in
    the page's flow, where its place depended on the layout (and once fell off the page)."""
    content = _stamp_content(job)
    css = [f'@page {{ @bottom-center {{ content: {content}; font: {STAMP_SIZE}pt "Portal Sans"; color: #1d3a6e; '
           "vertical-align: middle; white-space: nowrap } }"]
    body = []
    for i, (width, height) in enumerate(sizes):
        size = _stamp_size(width, job, len(sizes) + 1)
        css.append(f"@page p{i} {{ size: {width:.2f}pt {height:.2f}pt; margin: 0 {STAMP_SIDES}pt {STAMP_BAND}pt; "
                   f"@bottom-center {{ font-size: {size:.2f}pt }} }}")
        body.append(f'<div class="copy-page" style="page: p{i}"></div>')
    return "\n".join(css), "\n".join(body)


@lru_cache(maxsize=1)
def _fonts():
    """The fonts, registered once per process: registering them per render cost ~10 ms each time."""
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    config = FontConfiguration()
    faces = CSS(string=(FONTS.parent / "templates" / "copies" / "fonts.css").read_text(),
                base_url=FONTS.as_uri() + "/", url_fetcher=_fetcher(), font_config=config)
    return config, faces


def page_count_text(certification_pages: int, original_pages: int) -> str:
    """The certification page's line on how many pages the copy has."""
    these = "trang này" if certification_pages == 1 else f"{certification_pages} trang chứng nhận này"
    return f"{certification_pages + original_pages} trang ({these} và {original_pages} trang của bản chính)"


PAGE_COUNT = re.compile(r"<!--page-count-->.*?<!--/page-count-->", re.S)


def _render(job: CopyJob, sizes: list[tuple[float, float]], pdfa: bool = True) -> bytes:
    from weasyprint import HTML

    font_config, faces = _fonts()
    css, stamps = _stamp_pages(sizes, job)
    html_text = job.certificate_html.replace("/*stamp-pages*/", css).replace("<!--stamp-pages-->", stamps)
    options = dict(pdf_variant="pdf/a-2b" if pdfa else None, stylesheets=[faces], custom_metadata=False)
    document = HTML(string=html_text, base_url=FONTS.as_uri() + "/", url_fetcher=_fetcher()).render(
        font_config=font_config, **options)
    certification_pages = len(document.pages) - len(sizes)
    if certification_pages != 1:  # a long summary ran over: say so, and lay it out again
        counted = f"<!--page-count-->{page_count_text(certification_pages, len(sizes))}<!--/page-count-->"
        document = HTML(string=PAGE_COUNT.sub(counted, html_text), base_url=FONTS.as_uri() + "/",
                        url_fetcher=_fetcher()).render(font_config=font_config, **options)
    return document.write_pdf(**options)


def _page_count(data: bytes) -> int:
    import pikepdf

    with pikepdf.open(io.BytesIO(data)) as merged:
        return len(merged.pages)


def render_document(html_text: str) -> bytes:
    """Any of the portal's own printable documents (a report, say), with the same fonts and the
    same fetching rules as the certification page."""
    from weasyprint import HTML

    font_config, faces = _fonts()
    return HTML(string=html_text, base_url=FONTS.as_uri() + "/", url_fetcher=_fetcher()).write_pdf(
        pdf_variant="pdf/a-2b", stylesheets=[faces], font_config=font_config)


def _visible_box(page) -> tuple[float, float, float, float]:
    """The part of a page a reader shows: its crop box within its media box (PDF 32000 §14.11.2)."""
    media = [float(v) for v in page.mediabox]
    crop = [float(v) for v in page.cropbox]  # the media box when it has none
    mx0, mx1 = sorted((media[0], media[2]))
    my0, my1 = sorted((media[1], media[3]))
    cx0, cx1 = sorted((crop[0], crop[2]))
    cy0, cy1 = sorted((crop[1], crop[3]))
    box = (max(mx0, cx0), max(my0, cy0), min(mx1, cx1), min(my1, cy1))
    return box if box[2] > box[0] and box[3] > box[1] else (mx0, my0, mx1, my1)


def _original(path: str):
    """The stored result, opened, with the size each page is shown at (its visible box, turned
    by the page's /Rotate)."""
    import pikepdf

    try:
        original = pikepdf.open(path)
        sizes = []
        for page in original.pages:
            x0, y0, x1, y1 = _visible_box(page)
            width, height = x1 - x0, y1 - y0
            sizes.append((height, width) if page.rotation % 180 else (width, height))
        return original, sizes
    except Exception as err:
        raise CopyFailed("Không đọc được tệp gốc của kết quả; xin báo cho Sở.") from err


def _merge(certificate: bytes, original) -> bytes:
    """Lay each original page, as a form XObject, under its stamp page: its content and images are
    carried over as they are, not redrawn (qpdf does it, ~10x faster than pypdf here). The stamp
    pages are the last ones: the certification may take more than one page."""
    import pikepdf

    with pikepdf.open(io.BytesIO(certificate)) as copy:
        first = len(copy.pages) - len(original.pages)
        for i, page in enumerate(original.pages):
            form = page.as_form_xobject()  # turned by its /Rotate
            form.BBox = pikepdf.Array(_visible_box(page))  # what a reader showed of it, all of it
            copy.pages[first + i].add_underlay(copy.copy_foreign(form))
        # PDF/A wants the Info dictionary to agree with the XMP packet. pyHanko sets the producer
        # in both when it signs, but appends to an Info producer it finds: WeasyPrint's goes.
        if "/Producer" in copy.docinfo:
            del copy.docinfo["/Producer"]
        out = io.BytesIO()
        copy.save(out)
        return out.getvalue()


@lru_cache(maxsize=4)
def _signer(p12_path: str, password: str, mtime: float):
    """Loaded once per process (and again only if the file changes)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ec import ECDSA
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from pyhanko.sign import signers
    from pyhanko.sign.general import get_pyca_cryptography_hash

    class KeyLoadedOnce(signers.SimpleSigner):
        """pyHanko's SimpleSigner parses (and so re-validates) the private key for every
        signature, ~55 ms for RSA-2048; this one keeps the parsed key."""

        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
            hash_algo = get_pyca_cryptography_hash(digest_algorithm)
            if mechanism == "rsassa_pkcs1v15":
                return self.loaded_key.sign(data, PKCS1v15(), hash_algo)
            if mechanism == "ecdsa":
                return self.loaded_key.sign(data, ECDSA(hash_algo))
            return super().sign_raw(data, digest_algorithm)

    loaded = signers.SimpleSigner.load_pkcs12(p12_path, passphrase=password.encode() or None)
    if loaded is None:
        raise CopyFailed("Không nạp được khóa ký số của Sở (tệp PKCS#12 hoặc mật khẩu sai).")
    signer = KeyLoadedOnce(signing_cert=loaded.signing_cert, signing_key=loaded.signing_key,
                           cert_registry=loaded.cert_registry)
    signer.loaded_key = serialization.load_der_private_key(loaded.signing_key.dump(), password=None)
    return signer


@lru_cache(maxsize=1)
def _stamp_style():
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.stamp import TextStampStyle

    # pyHanko's default font has no Vietnamese letters: embed DejaVu, subset to what is written.
    return TextStampStyle(
        stamp_text="Ký số bởi: %(signer)s\nThời gian ký: %(signed_at)s\nBản sao điện tử từ sổ gốc",
        text_box_style=TextBoxStyle(font=GlyphAccumulatorFactory(str(FONTS / "DejaVuSans-Vietnamese.ttf")),
                                    font_size=8.5,
                                    leading=12),
        border_width=1, background=None,
    )


SIGNER_REVOKED = ("Chứng thư số của Sở đã bị thu hồi nên không ký được bản sao. Xin báo cho Sở để thay chứng "
                  "thư số mới.")
SIGNER_NOT_VALID = ("Chứng thư số của Sở không kiểm tra được với các chứng thư gốc tin cậy đã cấu hình, hoặc đã "
                    "hết hạn, nên không ký được bản sao kiểm tra được lâu dài. Xin báo cho Sở.")


def _long_term(signer, job: CopyJob):
    """The authority's client and a validation context holding the CRLs that show the signer's
    and the authority's certificates valid now (what goes into the document security store)."""
    client = ltv.timestamper(job.timestamps)
    certs = [signer.signing_cert, *signer.cert_registry, *ltv.authority_certificates(client)]
    crls = ltv.crls_for(certs, job.timestamps.timeout, job.timestamps.cache_seconds)
    context = validation.validation_context(list(validation.trust_roots(job.signing.trust_roots_path)),
                                            {"certs": certs, "crls": [], "ocsps": []}, crls,
                                            revocation_mode="hard-fail")
    return client, context


def _sign(data: bytes, job: CopyJob):
    path = job.signing.p12_path
    try:
        signer = _signer(path, job.signing.password, Path(path).stat().st_mtime)
    except FileNotFoundError:
        raise CopyFailed("Chưa cấu hình khóa ký số của Sở.") from None
    sealed, client, context = Sealed(), None, None
    if job.timestamps.enabled:
        try:
            client, context = _long_term(signer, job)
        except ltv.ValidationDataUnavailable as err:
            if not job.timestamps.fallback:
                raise CopyFailed(str(err)) from None
            sealed.unstamped_reason = str(err)
    try:
        signed = _signed_with(data, job, signer, client, context)
    except CopyFailed as refusal:
        # The authority answered for its certificates earlier but not for this copy's timestamp.
        if context is None or str(refusal) != ltv.TSA_UNREACHABLE or not job.timestamps.fallback:
            raise
        sealed.unstamped_reason, context = str(refusal), None
        signed = _signed_with(data, job, signer, None, None)
    if context is not None:
        _describe(signed, sealed, job.timestamps.archival)
        # What a verifier counts as long-term data: revocation data, not the certificates alone
        # (a chain naming no CRL has none to carry).
        sealed.long_term = bool(context.crls or context.ocsps)
    return signed, fingerprint(signer.signing_cert.dump()), sealed


def _signed_with(data: bytes, job: CopyJob, signer, client, context) -> bytes:
    """`data` signed; with `context`, timestamped by `client` and carrying the validation data."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields
    from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner
    from pyhanko.sign.signers.pdf_signer import DSSContentSettings, SigDSSPlacementPreference

    long_term = context is not None
    meta = PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
        reason="Bản sao điện tử từ sổ gốc", location=job.location, name=job.department,
        embed_validation_info=long_term, validation_context=context,
        use_pades_lta=long_term and job.timestamps.archival, timestamp_field_name=DOCUMENT_TIMESTAMP_FIELD,
        # The validation data goes into the signed revision itself: one revision, readable by
        # validators that do not follow incremental updates.
        dss_settings=DSSContentSettings(include_vri=False, placement=SigDSSPlacementPreference.TOGETHER_WITH_SIGNATURE),
    )
    pdf_signer = PdfSigner(meta, signer, timestamper=client, stamp_style=_stamp_style(),
                           new_field_spec=fields.SigFieldSpec(SIGNATURE_FIELD, on_page=0, box=SIGNATURE_BOX))
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    try:
        out = pdf_signer.sign_pdf(writer, bytes_reserved=TIMESTAMPED_SIGNATURE_BYTES if long_term else SIGNATURE_BYTES,
                                  appearance_text_params={"signed_at": job.signed_at})
    except Exception as err:  # pyHanko wraps what went wrong in several kinds
        raise _signing_refusal(err) from err
    return out.getvalue()


def _signing_refusal(err: Exception) -> CopyFailed:
    from pyhanko.sign.timestamps import TimestampRequestError
    from pyhanko_certvalidator.errors import RevokedError

    chain = [err]
    while len(chain) < 20 and (chain[-1].__cause__ or chain[-1].__context__) is not None:
        chain.append(chain[-1].__cause__ or chain[-1].__context__)
    if any(isinstance(e, RevokedError) for e in chain):
        return CopyFailed(SIGNER_REVOKED)
    if any(isinstance(e, TimestampRequestError | OSError) for e in chain):
        return CopyFailed(ltv.TSA_UNREACHABLE)
    if any(type(e).__module__.startswith("pyhanko_certvalidator") for e in chain):
        return CopyFailed(SIGNER_NOT_VALID)
    return CopyFailed(f"Không ký được bản sao ({type(err).__name__}); xin báo cho Sở.")


BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")


def _signed_data(signed: bytes, which: int):
    """The CMS SignedData of the file's `which`-th signature dictionary (0: the copy's signature,
    -1: the last document timestamp), read from between its byte ranges: reading the file back
    with pyHanko parsed the reserved hex digit by digit, 40 ms a copy."""
    import binascii

    from asn1crypto import cms

    start, length, resume, _ = (int(n) for n in BYTE_RANGE.findall(signed)[which])
    # The reserved room is padded with zeros after the DER, whose own length says where it ends.
    info = cms.ContentInfo.load(binascii.unhexlify(signed[start + length + 1:resume - 1]), strict=False)
    return info["content"]


def _describe(signed: bytes, sealed: Sealed, archival: bool) -> None:
    """From the signed file: the timestamp's time and authority, and with B-LTA when the document
    timestamp's authority certificate expires."""
    from pyhanko.sign.general import find_unique_cms_attribute

    signer_info = _signed_data(signed, 0)["signer_infos"][0]
    token = find_unique_cms_attribute(signer_info["unsigned_attrs"], "signature_time_stamp_token")
    sealed.timestamped_at, authority = ltv.token_facts(token)
    sealed.timestamp_authority = ltv.authority_name(authority) if authority is not None else None
    if archival:
        _, authority = ltv.token_facts({"content": _signed_data(signed, -1)})
        sealed.archive_until = authority.not_valid_after if authority is not None else None


def produce(job: CopyJob) -> Produced:
    """The signed copy: certification page, the original's pages stamped, one signature over all."""
    timings = {}
    start = time.perf_counter()
    from ..archive.pdfa import fonts_not_embedded

    original, sizes = _original(job.original_path)
    with original:
        # A born-digital original may lean on the reader's fonts: a copy carrying such a page must
        # not claim PDF/A, which forbids that (scans, images, have no fonts).
        pdfa = not fonts_not_embedded(original)
        certificate = _render(job, sizes, pdfa)
        timings["render"] = time.perf_counter() - start
        start = time.perf_counter()
        merged = _merge(certificate, original)
        timings["merge"] = time.perf_counter() - start
    start = time.perf_counter()
    signed, cert_sha, sealed = _sign(merged, job)
    timings["sign"] = time.perf_counter() - start
    return Produced(signed, _page_count(merged), cert_sha, pdfa, timings, sealed)


def renew_archive_timestamp(data: bytes, trust_roots_path: str,
                            timestamps: ltv.TimestampConfig) -> tuple[bytes, datetime]:
    """A B-LTA copy with a new document timestamp over it, after the validation data of the last
    one (its authority's certificates and CRLs, valid now): the chain of proof goes on past that
    authority's certificate. An incremental update: the earlier file is the new one's prefix.
    Answers the new file and when the new timestamp's authority certificate expires."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.signers.pdf_signer import PdfTimeStamper

    reader = PdfFileReader(io.BytesIO(data), strict=False)
    if not reader.embedded_timestamp_signatures:
        raise CopyFailed("Bản sao này không có dấu thời gian lưu trữ để gia hạn.")
    last = reader.embedded_timestamp_signatures[-1]
    carried = validation.carried_validation_data(reader)
    try:
        client = ltv.timestamper(timestamps)
        certs = [last.signer_cert, *last.other_embedded_certs, *carried["certs"], *ltv.authority_certificates(client)]
        crls = ltv.crls_for(certs, timestamps.timeout, timestamps.cache_seconds)
    except ltv.ValidationDataUnavailable as err:
        raise CopyFailed(str(err)) from None
    context = validation.validation_context(list(validation.trust_roots(trust_roots_path)),
                                         {**carried, "certs": certs}, crls, revocation_mode="hard-fail")
    try:
        out = PdfTimeStamper(client).update_archival_timestamp_chain(reader, context, in_place=False)
    except Exception as err:  # pyHanko wraps what went wrong in several kinds
        raise _signing_refusal(err) from err
    renewed = out.getvalue()
    newest = PdfFileReader(io.BytesIO(renewed), strict=False).embedded_timestamp_signatures[-1]
    return renewed, newest.signer_cert.not_valid_after
