"""Copies that still verify in 2050: a signature timestamp from a real RFC 3161 authority and the
validation data in the file (PAdES B-LT), a document timestamp when asked (B-LTA) and its renewal,
revocation before and after signing, and an authority that is down or slow.

Each test has a demo PKI of its own, published by portal/copies/demo_pki.py in its own process on
127.0.0.1 (tests/pki_service.py): the authority at /tsa, the CA's CRL signed afresh on each request.
It runs at today's real time, as the rendering process does; the tests move their clock to the
instants that matter (just after signing, past the signing certificate's expiry)."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.copies import ltv
from portal.copies.validation import check_signature
from portal.extensions import db
from portal.models import AuditEvent, CertifiedCopy

from .conftest import CERTIFICATES_VALID_FROM, csrf_token, login, make_result
from .pki_service import PkiService
from .test_copies import copy_bytes, issue

TSA_NAME = "Dịch vụ cấp dấu thời gian thử nghiệm (demo TSA)"


@pytest.fixture
def pki(tmp_path):
    service = PkiService(tmp_path)
    service.make_keys(CERTIFICATES_VALID_FROM)
    service.start()
    yield service
    service.stop()


@pytest.fixture
def copy_settings(request):
    """Settings a test adds to its app (parametrized indirectly; "slow": a late authority)."""
    param = getattr(request, "param", {})
    return request.getfixturevalue("copy_settings_slow") if param == "slow" else param


@pytest.fixture
def signing_keys(pki, copy_settings):
    """This module's apps sign with the test's own PKI and ask its authority (overrides conftest's)."""
    return {**pki.settings(), **copy_settings}


@pytest.fixture
def published(clock, world, pdfs):
    return make_result(world, pdfs[2], reviewer="reviewer_a", valid_until=None, document_number="3/GP-SKHCN")


def roots(pki) -> list:
    from portal.copies.validation import trust_roots

    return list(trust_roots(str(pki.keys / "demo-ca.pem")))


def signature_of(data: bytes):
    from pyhanko.pdf_utils.reader import PdfFileReader

    return PdfFileReader(io.BytesIO(data)).embedded_regular_signatures[0]


def offline_pades_lt(data: bytes, pki):
    """pyHanko's validation with no network: the certificates and CRLs from the file's DSS only,
    revocation data required for every certificate, the signer judged at the timestamp's time."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    reader = PdfFileReader(io.BytesIO(data))
    signature = reader.embedded_regular_signatures[0]
    dss = DocumentSecurityStore.read_dss(reader)
    options = {"trust_roots": roots(pki), "allow_fetching": False, "revocation_mode": "require"}
    first = validate_pdf_signature(signature, dss.as_validation_context(options),
                                   ts_validation_context=dss.as_validation_context(options))
    at_signing = dss.as_validation_context({**options, "moment": first.timestamp_validity.timestamp})
    return validate_pdf_signature(signature, at_signing, ts_validation_context=dss.as_validation_context(options))


def ades_spec(pki):
    """An AdES validation spec: the demo CA trusted, revocation data required, nothing fetched."""
    from pyhanko.sign.validation.policy_decl import (
        PdfSignatureValidationSpec,
        RevinfoOnlineFetchingRule,
        RevocationInfoGatheringSpec,
        SignatureValidationSpec,
    )
    from pyhanko_certvalidator.context import CertValidationPolicySpec
    from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy, RevocationCheckingPolicy, RevocationCheckingRule
    from pyhanko_certvalidator.registry import SimpleTrustManager

    required = RevocationCheckingRule.CRL_OR_OCSP_REQUIRED
    policy = CertValidationPolicySpec(trust_manager=SimpleTrustManager.build(trust_roots=roots(pki)),
                                      revinfo_policy=CertRevTrustPolicy(RevocationCheckingPolicy(required, required)))
    return PdfSignatureValidationSpec(SignatureValidationSpec(
        cert_validation_policy=policy,
        revinfo_gathering_policy=RevocationInfoGatheringSpec(online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY)))


def ask_for_copy(client, result) -> str:
    """Ask for a copy as the holder's browser does; the page it lands on."""
    token = csrf_token(client, f"/me/results/{result.code}")
    response = client.post(f"/me/results/{result.code}/copies", data={"csrf_token": token}, follow_redirects=True)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def copies_registered() -> int:
    return db.session.scalar(select(func.count(CertifiedCopy.id)))


# --- B-LT -------------------------------------------------------------------------------------------

def test_a_timestamped_copy_validates_offline_and_after_its_certificate_expires(clock, client, published, pki, app):
    from pyhanko.sign.validation.ades import simulate_future_ades_lta_validation

    from portal.timeutil import to_local

    login(client, "holder_a")
    copy = issue(client, published)
    # The register records the proven time and who gave it; the holder's page says it.
    assert copy.timestamp_authority == TSA_NAME and copy.long_term and copy.archive_timestamp_until is None
    page = client.get(f"/me/results/{published.code}?da_cap={copy.verification_code}").get_data(as_text=True)
    assert f"dấu thời gian của {TSA_NAME}" in page
    listed = client.get("/api/v1/me/copies").get_json()["copies"][0]
    assert listed["timestamp_authority"] == TSA_NAME and listed["long_term"] is True
    assert listed["timestamped_at"] == to_local(copy.timestamped_at).isoformat()
    data = copy_bytes(client, copy)

    pki.stop()  # no network from here on: nothing answers at the authority's or the CRL's address
    clock.move_to(copy.timestamped_at + timedelta(minutes=1))
    status = offline_pades_lt(data, pki)
    assert status.bottom_line and status.timestamp_validity.trusted
    check = check_signature(data, str(pki.keys / "demo-ca.pem"), ltv.TimestampConfig(timeout=1, cache_seconds=0))
    assert check.intact and check.whole_file and check.trusted and check.long_term and not check.archival
    assert check.timestamped and check.timestamp_trusted and check.valid_when_signed is True
    assert check.timestamp_authority == TSA_NAME
    assert check.timestamp_at == to_local(copy.timestamped_at).isoformat(timespec="seconds")
    # The verification page's first answer says the same, with the authority's time.
    answers = client.get(f"/api/v1/verify/{copy.verification_code}").get_json()
    file = answers["checks"]["file"]
    assert answers["reliable"] and file["ok"] and file["timestamp_trusted"] and file["long_term"]
    assert file["valid_when_signed"] is True and TSA_NAME in file["says"]

    # Years later, the department's certificate has expired: the copy was signed while it was valid.
    expired = pki.signer_certificate().not_valid_after_utc + timedelta(days=1)
    clock.move_to(expired)
    later = check_signature(data, str(pki.keys / "demo-ca.pem"))
    assert later.intact and later.timestamp_trusted and later.valid_when_signed is True
    assert not later.certificate_problem
    # The authority's own certificate is judged at the time it stamped; that is as far as B-LT goes
    # offline: the file's CRL of the authority is old by then, and pyHanko's strict AdES validation
    # wants a document timestamp over it (B-LTA, the next test) to carry the proof on.
    strict = asyncio.run(simulate_future_ades_lta_validation(
        signature_of(data), ades_spec(pki), future_validation_time=expired,
        current_reference_time=copy.timestamped_at + timedelta(minutes=1)))
    assert strict.ades_subindic.status.name == "INDETERMINATE"


@pytest.mark.parametrize("copy_settings", [{"COPY_LTA": True}], indirect=True)
def test_b_lta_adds_a_document_timestamp_and_copies_refresh_renews_it(clock, client, published, pki, app):
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.ades import ades_lta_validation, simulate_future_ades_lta_validation

    from portal.storage import storage

    login(client, "holder_a")
    copy = issue(client, published)
    data = copy_bytes(client, copy)
    authority = PdfFileReader(io.BytesIO(data)).embedded_timestamp_signatures[-1].signer_cert
    assert copy.archive_timestamp_until == authority.not_valid_after
    clock.move_to(copy.timestamped_at + timedelta(minutes=1))
    assert check_signature(data, app.config["TRUST_ROOTS"]).archival
    result = asyncio.run(ades_lta_validation(signature_of(data), ades_spec(pki)))
    assert result.ades_subindic.status.name == "PASSED", result.failure_msg
    # Past the signing certificate's expiry, the file kept as it was issued: pyHanko's AdES check
    # of that future validation passes on the document timestamp.
    expired = pki.signer_certificate().not_valid_after_utc + timedelta(days=1)
    future = asyncio.run(simulate_future_ades_lta_validation(
        signature_of(data), ades_spec(pki), future_validation_time=expired,
        current_reference_time=copy.timestamped_at + timedelta(minutes=1)))
    assert future.ades_subindic.status.name == "PASSED", future.failure_msg

    runner = app.test_cli_runner()
    # Nothing is due while the authority's certificate has years to run.
    assert "renewed 0, failed 0" in runner.invoke(args=["copies-refresh", "--within", "30"]).output

    # With the authority out of reach nothing changes, and the command says so and fails.
    pki.stop()
    failed = runner.invoke(args=["copies-refresh", "--within", "36500"])
    assert failed.exit_code == 1 and copy.register_number in failed.output and "dấu thời gian" in failed.output
    db.session.expire_all()
    assert db.session.get(CertifiedCopy, copy.id).sha256 == copy.sha256
    pki.start()

    first_sha = copy.sha256
    done = runner.invoke(args=["copies-refresh", "--within", "36500"])
    assert done.exit_code == 0 and "renewed 1, failed 0" in done.output, done.output
    db.session.expire_all()
    renewed = db.session.get(CertifiedCopy, copy.id)
    assert renewed.sha256 != first_sha and renewed.known_hashes == {first_sha, renewed.sha256}
    login(client, "holder_a")  # the clock moved on by months: the session from then has ended
    new_data = copy_bytes(client, renewed)
    assert new_data.startswith(data)  # an incremental update: the holder's earlier file is its prefix
    assert len(PdfFileReader(io.BytesIO(new_data)).embedded_timestamp_signatures) == 2
    assert storage().exists(first_sha)  # the earlier file is kept, and checked by `fixity`
    assert runner.invoke(args=["fixity"]).exit_code == 0
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "copy.renew")) == 1
    result = asyncio.run(ades_lta_validation(signature_of(new_data), ades_spec(pki)))
    assert result.ades_subindic.status.name == "PASSED", result.failure_msg

    # The register, as staff read it, says when each copy was stamped, by whom, and until when.
    client.delete_cookie("session")
    login(client, "admin")
    register = client.get("/admin/copies").get_data(as_text=True)
    assert TSA_NAME in register and "lưu trữ đến" in register

    # Without an authority there is nothing to renew with: the command says so.
    app.config["TSA_URL"] = ""
    refused = runner.invoke(args=["copies-refresh"])
    assert refused.exit_code != 0 and "PORTAL_TSA_URL" in refused.output


# --- revocation -------------------------------------------------------------------------------------

def test_a_certificate_revoked_after_signing_leaves_the_copy_valid_and_stops_new_ones(
        clock, client, published, pki, app):
    login(client, "holder_a")
    copy = issue(client, published)
    data = copy_bytes(client, copy)
    pki.revoke_signer(at=copy.timestamped_at + timedelta(seconds=5))

    # No new copy is signed with a revoked certificate.
    page = ask_for_copy(client, published)
    assert "Chứng thư số của Sở đã bị thu hồi" in page and copies_registered() == 1

    clock.move_to(copy.timestamped_at + timedelta(minutes=1))
    fresh = ltv.TimestampConfig(timeout=2, cache_seconds=0)  # the current CRL, which lists the revocation
    check = check_signature(data, app.config["TRUST_ROOTS"], fresh)
    assert check.valid_when_signed is True and check.intact and check.trusted
    answers = client.get(f"/api/v1/verify/{copy.verification_code}").get_json()
    assert answers["reliable"] and answers["checks"]["file"]["valid_when_signed"] is True


def test_a_certificate_revoked_before_signing_invalidates_the_copy(clock, client, published, pki, app):
    login(client, "holder_a")
    copy = issue(client, published)
    data = copy_bytes(client, copy)
    # A key compromise dated back to an hour before the copy was signed.
    pki.revoke_signer(at=copy.timestamped_at - timedelta(hours=1))

    clock.move_to(copy.timestamped_at + timedelta(minutes=1))
    check = check_signature(data, app.config["TRUST_ROOTS"], ltv.TimestampConfig(timeout=2, cache_seconds=0))
    assert check.intact and check.timestamp_trusted
    assert check.valid_when_signed is False and "đã bị thu hồi từ" in check.certificate_problem
    # The file alone cannot know: its own CRL is from before the revocation was published.
    assert check_signature(data, app.config["TRUST_ROOTS"]).valid_when_signed is True
    # The verification fetches the current CRL: the file fails, the register and the signer stand.
    answers = client.get(f"/api/v1/verify/{copy.verification_code}").get_json()
    checks = answers["checks"]
    assert not answers["reliable"] and not checks["file"]["ok"] and checks["file"]["valid_when_signed"] is False
    assert "thu hồi" in checks["file"]["says"] and checks["register"]["ok"] and checks["signer"]["ok"]


# --- the authority down or slow ---------------------------------------------------------------------

def test_the_authority_down_refuses_the_copy_clearly_and_keeps_the_register_whole(clock, client, published, pki):
    login(client, "holder_a")
    pki.stop()
    page = ask_for_copy(client, published)
    assert "Dịch vụ cấp dấu thời gian (TSA) hiện không trả lời" in page and copies_registered() == 0
    pki.start()
    assert issue(client, published).number == 1  # the number it had reserved was given back


@pytest.mark.parametrize("copy_settings", [{"REVOCATION_CACHE_SECONDS": 3600},
                                           {"REVOCATION_CACHE_SECONDS": 3600, "TSA_FALLBACK": "unstamped"}],
                         indirect=True, ids=["refuse", "unstamped"])
def test_the_authority_gone_after_its_certificates_were_learnt(clock, client, published, pki, copy_settings):
    """The rendering process keeps the authority's certificates and the CRLs for the window; the
    authority stops answering within it: the copy's own timestamp request fails, the same way."""
    login(client, "holder_a")
    assert issue(client, published).timestamped_at is not None
    pki.stop()
    page = ask_for_copy(client, published)
    if "TSA_FALLBACK" in copy_settings:
        assert copies_registered() == 2 and "Bản sao này không có dấu thời gian tin cậy" in page
    else:
        assert "Dịch vụ cấp dấu thời gian (TSA) hiện không trả lời" in page and copies_registered() == 1


@pytest.fixture
def slow_pki(pki, tmp_path):
    """The same authority answering three seconds late (the app waits one)."""
    slow = PkiService(tmp_path, delay=3, label="slow")
    slow.keys = pki.keys
    slow.start()
    yield slow
    slow.stop()


@pytest.fixture
def copy_settings_slow(slow_pki):
    return {"TSA_URL": slow_pki.tsa_url, "TSA_TIMEOUT": 1}


@pytest.mark.parametrize("copy_settings", ["slow"], indirect=True)
def test_a_slow_authority_refuses_the_copy(clock, client, published):
    login(client, "holder_a")
    page = ask_for_copy(client, published)
    assert "Dịch vụ cấp dấu thời gian (TSA) hiện không trả lời" in page and copies_registered() == 0


@pytest.mark.parametrize("copy_settings", [{"TSA_FALLBACK": "unstamped"}], indirect=True)
def test_with_the_fallback_a_copy_without_timestamp_is_issued_and_says_so(clock, client, published, pki, app):
    login(client, "holder_a")
    pki.stop()
    copy = issue(client, published)
    assert copy.timestamped_at is None and copy.timestamp_authority is None and not copy.long_term
    page = client.get(f"/me/results/{published.code}?da_cap={copy.verification_code}").get_data(as_text=True)
    assert "Bản sao này không có dấu thời gian tin cậy" in page
    own_page = client.get(f"/me/copies/{copy.verification_code}").get_data(as_text=True)
    assert "Bản sao này không có dấu thời gian tin cậy" in own_page
    listed = client.get("/api/v1/me/copies").get_json()["copies"][0]
    assert listed["timestamped_at"] is None and listed["long_term"] is False
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "copy.issue")).one()
    assert "TSA" in event.details["unstamped"]
    check = check_signature(copy_bytes(client, copy), app.config["TRUST_ROOTS"])
    assert check.intact and check.trusted and not check.timestamped and check.valid_when_signed is None


# --- what the verifier fetches ----------------------------------------------------------------------

def sign_blank(service: PkiService) -> bytes:
    """A one-page PDF signed B-LT with `service`'s own key and authority."""
    import pikepdf

    from portal.copies import keys, pdf

    blank = pikepdf.new()
    blank.add_blank_page()
    out = io.BytesIO()
    blank.save(out)
    signing = keys.SigningConfig(str(service.keys / keys.DEMO_P12), keys.DEMO_PASSWORD,
                                 str(service.keys / keys.DEMO_CA), demo=True)
    job = pdf.CopyJob("", "", "", "X", "Sở giả mạo", "2026-06-15T10:00:00+07:00", "Quảng Ngãi", signing,
                      ltv.TimestampConfig(tsa_url=service.tsa_url, timeout=2, cache_seconds=0))
    return pdf._sign(out.getvalue(), job)[0]


def test_a_strangers_certificate_does_not_make_the_verifier_fetch_where_it_points(tmp_path, pki, app):
    """An uploaded file's certificates name their CRL addresses: only those of certificates chaining
    to the configured roots are fetched, never where a stranger's certificate points."""
    stranger = PkiService(tmp_path, label="stranger")
    stranger.make_keys(CERTIFICATES_VALID_FROM)
    stranger.start()
    try:
        data = sign_blank(stranger)
        fresh = ltv.TimestampConfig(timeout=2, cache_seconds=0)
        before = ltv.fetch_counts()["crl"]
        check = check_signature(data, app.config["TRUST_ROOTS"], fresh)
        assert check.intact and not check.trusted and ltv.fetch_counts()["crl"] == before
        # Trusted, the same certificates' CRLs are fetched.
        assert check_signature(data, str(stranger.keys / "demo-ca.pem"), fresh).trusted
        assert ltv.fetch_counts()["crl"] > before
    finally:
        stranger.stop()


def test_the_demo_pki_on_a_taken_port_says_so(pki):
    """`flask demo-pki` (portal.copies.demo_pki) where something already listens: a sentence, exit 1."""
    import subprocess
    import sys

    from .loopback_service import ROOT

    taken = subprocess.run([sys.executable, "-m", "portal.copies.demo_pki", "--keys", str(pki.keys),
                            "--port", str(pki.port)], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert taken.returncode == 1 and "cannot listen on" in taken.stderr and "Traceback" not in taken.stderr
