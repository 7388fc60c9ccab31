"""The three answers a verification gives, each with its own pass or fail and a plain sentence,
the way OpenAttestation verifiers keep them apart:

1. file: the file is intact and its signature valid (with the proven time of signing, if any);
   for an upload, also that it is byte for byte a file the register issued under this code;
2. register: the register knows the code and the copied result is still valid today;
3. signer: the file was signed by the department, with a certificate chained to the trust roots.

A lookup by code alone answers 1 and 3 about the register's own stored file; an upload, about
the uploaded file. Only when all three pass may a bank rely on the copy (`Verdict.reliable`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app

from .. import audit
from ..extensions import db
from ..fixity import record_damage
from ..models import CertifiedCopy
from ..models.results import EXPIRED, PUBLISHED, REPLACED, REVOKED, STATUS_LABELS
from ..operations.results import replacement_of
from ..storage import ALTERED, MISSING, FileDamaged, StorageUnavailable, storage
from ..timeutil import to_local, today
from ..wording import day, moment
from . import ltv, pdf, validation, worker
from .keys import ensure_signing_key

CHECK_TIMEOUT_SECONDS = 30  # a stranger's file gets less of the rendering process than a copy
UPLOAD, REGISTER = "upload", "register"


@dataclass
class Answer:
    ok: bool
    says: str                   # one plain Vietnamese sentence (or two)
    details: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "says": self.says, **self.details}


@dataclass
class Verdict:
    source: str                 # UPLOAD: about the uploaded file; REGISTER: about the stored copy file
    file: Answer
    register: Answer
    signer: Answer

    @property
    def reliable(self) -> bool:
        return self.file.ok and self.register.ok and self.signer.ok

    @property
    def reliance(self) -> str:
        """What a bank (or anyone handed the copy) may rely on, and what not."""
        if self.reliable:
            held = ("Tệp bạn tải lên là bản sao điện tử được cấp từ sổ gốc" if self.source == UPLOAD else
                    "Bản sao mang mã này được cấp từ sổ gốc")
            also = "" if self.source == UPLOAD else (
                " Để chắc tệp bạn đang giữ chính là bản sao này, hãy tải tệp lên để kiểm tra hoặc so mã băm SHA-256.")
            return (f"{held}, nguyên vẹn, do {_department()} ký số, và văn bản được sao còn hiệu lực hôm nay: "
                    "bản sao có giá trị sử dụng thay cho bản chính trong giao dịch (Nghị định số 23/2015/NĐ-CP, "
                    f"Điều 3), trừ trường hợp pháp luật có quy định khác.{also}")
        nots = []
        if not self.file.ok:
            nots.append("vào tệp này như một bản sao đã cấp" if self.source == UPLOAD else
                        "vào tệp bản sao lúc này (tệp Sở lưu giữ chưa kiểm tra được nguyên vẹn)")
        if not self.register.ok:
            nots.append("vào văn bản được sao như một văn bản còn hiệu lực hôm nay")
        if not self.signer.ok:
            nots.append(f"vào chữ ký số như chữ ký của {_department()}")
        return "Không được dựa " + "; không dựa ".join(nots) + ". Bản sao không dùng được thay cho bản chính."

    def as_dict(self) -> dict:
        return {"reliable": self.reliable, "reliance": self.reliance,
                "checks": {"source": self.source, "file": self.file.as_dict(), "register": self.register.as_dict(),
                           "signer": self.signer.as_dict()}}


def _department() -> str:
    return current_app.config["DEPARTMENT_NAME"]


# --- entry points ----------------------------------------------------------------------------------

def verify_upload(copy: CertifiedCopy, data: bytes) -> Verdict:
    """The three answers about a file someone uploaded for this code (audited, not kept).
    CopyFailed when the rendering process cannot check it now."""
    digest = hashlib.sha256(data).hexdigest()
    signature = _check(data)
    verdict = Verdict(UPLOAD, file_answer(copy, signature, UPLOAD, digest), register_answer(copy),
                      signer_answer(copy, signature))
    audit.record("copy.verify", result=copy.result, target=copy.verification_code,
                 details={"upload": True, "matches": digest in copy.known_hashes})
    db.session.commit()
    return verdict


def verify_stored(copy: CertifiedCopy) -> Verdict:
    """The three answers for a lookup by code alone: about the register's own stored file. A
    stored file that no longer hashes to its name fails the file's answer (and is recorded as
    damage to mend); its signature is still read, so the signer's answer still speaks."""
    try:
        with storage().open_unchecked(copy.sha256) as fh:
            data = fh.read()
    except FileNotFoundError:
        record_damage(FileDamaged(copy.sha256, MISSING), result=copy.result, kind="copy verification")
        return _unchecked(copy, "Không tìm thấy tệp bản sao Sở lưu giữ (sự cố đã được ghi nhận để khôi phục), "
                                "nên chưa xác nhận được tệp và chữ ký số.", damaged=True)
    except StorageUnavailable:
        return _unchecked(copy, UNREACHABLE)
    try:
        signature = _check(data)
    except pdf.CopyFailed:
        return _unchecked(copy, UNREACHABLE)
    digest = hashlib.sha256(data).hexdigest()
    if digest != copy.sha256:
        record_damage(FileDamaged(copy.sha256, ALTERED), result=copy.result, kind="copy verification")
    return Verdict(REGISTER, file_answer(copy, signature, REGISTER, digest), register_answer(copy),
                   signer_answer(copy, signature))


UNREACHABLE = "Lúc này chưa đọc và kiểm tra được tệp bản sao Sở lưu giữ; xin thử lại sau ít phút."


def _check(data: bytes) -> validation.SignatureCheck:
    """The file's signature checked in the rendering process (an upload is a stranger's file: it
    is never parsed here), with the current CRLs of its certificates when they can be fetched."""
    config = current_app.config
    return _in_worker(validation.check_signature, data, ensure_signing_key(config).trust_roots_path,
                      ltv.timestamp_config(config))


def _in_worker(function, *args):
    return worker.run(function, *args, processes=current_app.config["COPY_PROCESSES"],
                      timeout=CHECK_TIMEOUT_SECONDS)


def _unchecked(copy: CertifiedCopy, says: str, damaged: bool = False) -> Verdict:
    blank = validation.SignatureCheck()
    file = file_answer(copy, blank, REGISTER, copy.sha256)
    file.says, file.details["damaged"] = says, damaged
    signer = signer_answer(copy, blank)
    signer.says = "Chưa xác nhận được người ký vì chưa kiểm tra được tệp bản sao Sở lưu giữ."
    return Verdict(REGISTER, file, register_answer(copy), signer)


# --- 1. the file ---------------------------------------------------------------------------------

def file_answer(copy: CertifiedCopy, check: validation.SignatureCheck, source: str, sha256: str) -> Answer:
    issued = sha256 in copy.known_hashes
    # Whether the certificate was valid when signing can be judged only along a trusted chain;
    # an untrusted one is the signer's answer, not the file's.
    invalid_then = check.valid_when_signed is False and check.trusted
    damaged = source == REGISTER and not issued  # the stored file no longer hashes to its name
    details = {
        "source": source, "sha256": sha256, "issued_file": issued, "damaged": damaged,
        "readable": check.readable, "signed": check.signed, "intact": check.intact, "whole_file": check.whole_file,
        "signed_at": check.signed_at or None,
        "timestamped": check.timestamped, "timestamp_at": check.timestamp_at or None,
        "timestamp_authority": check.timestamp_authority or None, "timestamp_trusted": check.timestamp_trusted,
        "valid_when_signed": check.valid_when_signed, "certificate_problem": check.certificate_problem or None,
        "long_term": check.long_term, "archival": check.archival,
    }
    ok = check.intact and check.whole_file and issued and not invalid_then
    theirs = "Tệp bạn tải lên" if source == UPLOAD else "Tệp bản sao Sở lưu giữ"
    if damaged:
        says = (f"{theirs} không còn giống tệp đã ghi trong sổ (mã băm khác): tệp đã hỏng, sự cố đã được ghi nhận "
                "để khôi phục.")
    elif not check.readable:
        says = f"{theirs} không phải PDF đọc được."
    elif not check.signed:
        says = f"{theirs} không có chữ ký số."
    elif not check.intact:
        says = f"{theirs} đã bị sửa sau khi ký: chữ ký số không còn nguyên vẹn."
    elif not check.whole_file:
        says = f"{theirs} có nội dung được thêm vào sau khi ký."
    elif not issued:
        says = f"{theirs} có chữ ký số nguyên vẹn nhưng khác với mọi tệp Sở đã cấp cho mã này (mã băm khác)."
    elif invalid_then:
        problem = f": {check.certificate_problem.rstrip('.')}" if check.certificate_problem else ""
        says = f"{theirs} nguyên vẹn, nhưng chứng thư số không còn hiệu lực lúc ký{problem}."
    else:
        same = "giống từng byte với tệp Sở đã cấp, " if source == UPLOAD else ""
        says = f"{theirs} nguyên vẹn, {same}chữ ký số hợp lệ."
    if check.intact and not damaged:
        says += " " + _time_sentence(check)
    return Answer(ok, says, details)


def _time_sentence(check: validation.SignatureCheck) -> str:
    if check.timestamped and check.timestamp_trusted and check.timestamp_at:
        by = f" của {check.timestamp_authority}" if check.timestamp_authority else ""
        then = {True: " Chứng thư số còn hiệu lực lúc đó.", False: ""}.get(check.valid_when_signed, "")
        said = f"Dấu thời gian{by} xác nhận tệp được ký lúc {moment(check.timestamp_at, seconds=True)}.{then}"
    else:
        claimed = f" ({moment(check.signed_at, seconds=True)})" if check.signed_at else ""
        untrusted = " (có dấu thời gian nhưng không được tin cậy)" if check.timestamped else ""
        said = (f"Không có thời điểm tin cậy{untrusted}: thời điểm ký{claimed} do bên ký tự ghi, "
                "chưa được tổ chức cấp dấu thời gian xác nhận.")
    if check.archival:
        said += " Tệp mang dữ liệu để kiểm tra lâu dài, có dấu thời gian lưu trữ."
    elif check.long_term:
        said += " Tệp mang dữ liệu để kiểm tra lâu dài, không cần mạng."
    return said


# --- 2. the register -------------------------------------------------------------------------------

def register_answer(copy: CertifiedCopy) -> Answer:
    result = copy.result
    status = result.effective_status()
    since, reason, replaced_by = None, None, None
    if status in (REVOKED, REPLACED):
        change = result.last_change_to(status)
        since = to_local(change.at).date() if change else None
        reason = (change.reason if change else None) or result.status_reason
    if status == REPLACED:
        newer = replacement_of(result)
        replaced_by = newer.document_number if newer else None
    if status == EXPIRED:
        since = result.valid_until + timedelta(days=1)
    known = (f"Bản sao này có trong sổ cấp bản sao của {_department()} (số vào sổ {copy.register_number}, "
             f"cấp ngày {day(to_local(copy.issued_at).date())})")
    if status == PUBLISHED:
        says = f"{known}; văn bản được sao còn hiệu lực hôm nay ({day(today())})."
    elif status == REVOKED:
        on = f" ngày {day(since)}" if since else ""
        why = f" Lý do: {reason.rstrip('.')}." if reason else ""
        says = f"{known}, nhưng văn bản được sao đã bị thu hồi{on}; bản sao không còn giá trị sử dụng.{why}"
    elif status == REPLACED:
        on = f" từ ngày {day(since)}" if since else ""
        by = f" bằng văn bản số {replaced_by}" if replaced_by else ""
        says = f"{known}, nhưng văn bản được sao đã được thay thế{on}{by}; bản sao không còn giá trị sử dụng."
    elif status == EXPIRED:
        says = (f"{known}, nhưng văn bản được sao đã hết hiệu lực (hiệu lực đến hết ngày "
                f"{day(result.valid_until)}).")
    else:
        says = f"{known}, nhưng văn bản được sao hiện không có hiệu lực ({STATUS_LABELS[status].lower()})."
    return Answer(status == PUBLISHED, says, {
        "known": True, "register_number": copy.register_number, "status": status,
        "status_label": STATUS_LABELS[status], "valid_today": status == PUBLISHED,
        "since": since.isoformat() if since else None, "reason": reason, "replaced_by": replaced_by})


# --- 3. the signer ---------------------------------------------------------------------------------

def signer_answer(copy: CertifiedCopy, check: validation.SignatureCheck) -> Answer:
    department = _department()
    recorded = bool(check.signer_cert_sha256) and check.signer_cert_sha256 == copy.signer_cert_sha256
    names_department = bool(check.signer_name) and check.signer_name == department
    details = {"signer_name": check.signer_name or None, "certificate_sha256": check.signer_cert_sha256 or None,
               "recorded_certificate": recorded, "names_department": names_department, "trusted": check.trusted}
    ok = check.trusted and (recorded or names_department)
    if not check.signer_cert_sha256:
        says = "Không xác định được người ký: tệp không có chữ ký số đọc được."
    elif not (recorded or names_department):
        says = (f"Chữ ký số trong tệp là của {check.signer_name or 'một chứng thư số không rõ tên'}, "
                f"không phải của {department}.")
    elif not check.trusted:
        says = (f"Chứng thư số đã ký tệp mang tên {check.signer_name}, nhưng không dẫn tới tổ chức chứng thực nào "
                "mà cổng này tin cậy: không xác nhận được chữ ký là của Sở.")
    elif recorded:
        says = (f"Chữ ký số trong tệp là của {department}, bằng đúng chứng thư số Sở đã dùng khi cấp bản sao này, "
                "dẫn tới tổ chức chứng thực được tin cậy.")
    else:
        says = (f"Chữ ký số trong tệp dùng một chứng thư số mang tên {department}, dẫn tới tổ chức chứng thực được "
                "tin cậy (không phải chứng thư Sở ghi trong sổ khi cấp bản sao này).")
    return Answer(ok, says, details)
