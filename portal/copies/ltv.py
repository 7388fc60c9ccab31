"""What keeps a copy verifiable for decades: a trusted time and the validation data (PAdES B-LT/B-LTA).

A signature is judged by its certificate's validity when it was made (Law 20/2023 Art. 31), so a
copy carries a signature timestamp from an RFC 3161 authority (`PORTAL_TSA_URL`), and in its
document security store the certificates and CRLs that show the chain was valid then: it validates
with no network, after the certificate has expired. With `PORTAL_COPY_LTA` a document timestamp
covers it all (B-LTA), and `copies-refresh` adds a new one before that authority's certificate
expires.

Runs in the rendering process. The authority's certificates and the CRLs are fetched once per
validity window (a CRL until its nextUpdate, at most `cache_seconds`) and kept in the process,
not fetched per copy; only the timestamp itself is asked for each copy.
"""

from __future__ import annotations

import logging
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime

# The CRLs are fetched here, once per window, and handed to pyHanko with its own fetching off:
# its warning that it may not fetch says nothing, and would be logged for every copy.
logging.getLogger("pyhanko.sign.signers.pdf_signer").addFilter(
    lambda record: "fetching is not allowed" not in record.getMessage())

# Fetched documents are small (a CRL of a department's CA); a larger one is not what we asked for.
MAX_CRL_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class TimestampConfig:
    """The time-stamping settings the rendering process needs; picklable."""

    tsa_url: str = ""
    timeout: float = 10.0
    username: str = ""
    password: str = ""
    archival: bool = False        # add a document timestamp (B-LTA)
    fallback: bool = False        # authority or CRL out of reach: sign without (said so) instead of refusing
    cache_seconds: int = 3600     # how long fetched validation data is reused at most

    @property
    def enabled(self) -> bool:
        return bool(self.tsa_url)


def timestamp_config(config: dict) -> TimestampConfig:
    return TimestampConfig(
        tsa_url=config.get("TSA_URL") or "", timeout=float(config.get("TSA_TIMEOUT", 10)),
        username=config.get("TSA_USERNAME") or "", password=config.get("TSA_PASSWORD") or "",
        archival=bool(config.get("COPY_LTA")), fallback=config.get("TSA_FALLBACK") == "unstamped",
        cache_seconds=int(config.get("REVOCATION_CACHE_SECONDS", 3600)))


class ValidationDataUnavailable(Exception):
    """The authority or a CRL could not be reached or answered wrongly; str() says which, in Vietnamese."""


TSA_UNREACHABLE = ("Dịch vụ cấp dấu thời gian (TSA) hiện không trả lời nên chưa ký được bản sao có thời điểm "
                   "ký tin cậy. Xin thử lại sau ít phút.")
CRL_UNREACHABLE = ("Chưa lấy được danh sách chứng thư số bị thu hồi (CRL) của tổ chức cấp chứng thư nên chưa ký "
                   "được bản sao kiểm tra được lâu dài. Xin thử lại sau ít phút.")


_crls: dict[str, tuple[object, float]] = {}   # url -> (CertificateList, reuse until: time.time())
_timestampers: dict[tuple, tuple[object, float]] = {}
_fetched = {"crl": 0, "authority": 0}  # what this process fetched, for bench/copies.py
# A verifier going on without a CRL it could not fetch does not ask again for a minute: a host
# that drops the packets would otherwise cost every verification the whole timeout.
_unreachable: dict[str, float] = {}
UNREACHABLE_SECONDS = 60


def fetch_counts() -> dict:
    return dict(_fetched)


def crl_urls(cert) -> list[str]:
    """Where `cert` (asn1crypto) says its issuer publishes revocation lists (HTTP only)."""
    urls = []
    for point in cert.crl_distribution_points or []:
        url = point.url
        if url and url.startswith(("http://", "https://")):
            urls.append(url)
    return urls


def _fetch_crl(url: str, timeout: float, cache_seconds: int):
    from asn1crypto import crl as asn1_crl

    now = time.time()
    cached = _crls.get(url)
    if cached and cached[1] > now:
        return cached[0]
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            data = answer.read(MAX_CRL_BYTES + 1)
        if len(data) > MAX_CRL_BYTES:
            raise ValueError("CRL too large")
        crl = asn1_crl.CertificateList.load(data)
        _fetched["crl"] += 1
        next_update = crl["tbs_cert_list"]["next_update"].native
    except Exception as err:  # any failure to get it is the same for the caller
        raise ValidationDataUnavailable(CRL_UNREACHABLE) from err
    until = now + cache_seconds
    if next_update is not None:
        until = min(until, next_update.timestamp())
    _crls[url] = (crl, until)
    return crl


def crls_for(certs, timeout: float, cache_seconds: int, *, quiet: bool = False) -> list:
    """The current CRLs of every certificate in `certs` that names one; `quiet`: leave out those
    that cannot be fetched instead of raising (a verifier goes on with what the file carries)."""
    found, seen = [], set()
    for cert in certs:
        for url in crl_urls(cert):
            if url in seen:
                continue
            seen.add(url)
            if quiet and _unreachable.get(url, 0) > time.time():
                continue
            try:
                found.append(_fetch_crl(url, timeout, cache_seconds))
            except ValidationDataUnavailable:
                if not quiet:
                    raise
                _unreachable[url] = time.time() + UNREACHABLE_SECONDS
    return found


def timestamper(config: TimestampConfig):
    """The authority's client, with its certificates learnt (one request, reused for the window)."""
    import asyncio

    from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper

    key = (config.tsa_url, config.timeout, config.username, config.password)
    cached = _timestampers.get(key)
    if cached and cached[1] > time.time():
        return cached[0]
    auth = (config.username, config.password) if config.username else None
    client = RequestsHTTPTimeStamper(config.tsa_url, timeout=config.timeout, auth=auth)
    try:
        asyncio.run(client.async_dummy_response("sha256"))
        _fetched["authority"] += 1
    except Exception as err:  # refused, late, malformed: the authority did not answer
        raise ValidationDataUnavailable(TSA_UNREACHABLE) from err
    _timestampers[key] = (client, time.time() + config.cache_seconds)
    return client


def authority_certificates(client) -> list:
    """The certificates the authority sent with its answer (its own and its chain)."""
    return list(client.cert_registry)


def authority_name(cert) -> str:
    """A certificate's holder as people read it: its common name, else its organisation."""
    subject = cert.subject.native
    return subject.get("common_name") or subject.get("organization_name") or cert.subject.human_friendly


def token_facts(token) -> tuple[datetime, object | None]:
    """An RFC 3161 token (cms.ContentInfo): the time it states and the certificate that signed it."""
    from pyhanko.sign.general import CMSExtractionError, extract_certificate_info

    signed = token["content"]
    try:
        signer = extract_certificate_info(signed).signer_cert
    except CMSExtractionError:  # a token without its authority's certificate
        signer = None
    return signed["encap_content_info"]["content"].parsed["gen_time"].native.astimezone(UTC), signer
