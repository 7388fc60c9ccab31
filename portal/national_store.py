"""The national data store's format, in one place: its field names, identifier type
codes, state names, address, token and timeout. Its specification is not published; when the
province's LGSP or the national platform asks for another format, this module is what changes.

The outbox (portal/outbox.py) decides when a message is written and sent; this module only says
what a message holds and how it is posted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import requests
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from .identifiers import PERSON
from .models.results import EXPIRED, PUBLISHED, REPLACED, REVOKED

# The portal's state → TrangThai.
STATES = {PUBLISHED: "hieu_luc", REVOKED: "thu_hoi", REPLACED: "thay_the", EXPIRED: "het_hieu_luc"}
# LoaiDinhDanh of a 12-digit citizen identity number; a tax code's is a setting (TAX_CODE_ID_TYPE).
PERSON_ID_TYPE = 1
F_RESULT_CODE, F_VERSION, F_STATE, F_FILE_LINK = "MaKetQua", "PhienBan", "TrangThai", "DuongDanTepTinKetQua"
F_IDENTIFIERS, F_ID_TYPE, F_ID_NUMBER = "DinhDanhCHS", "LoaiDinhDanh", "SoDinhDanh"
IDEMPOTENCY_HEADER = "Idempotency-Key"
ANSWER_KEPT = 500  # characters of an answer kept for the sync page
LINK_SALT = "national-store-file"
FILE_LINK_PATH = "/national-store/files/"  # + the signed code (views/public.py); no request to build it from


def enabled() -> bool:
    return bool(current_app.config.get("NATIONAL_STORE_URL"))


def _id_type(result) -> int:
    from .operations import settings

    if result.holder_kind == PERSON and re.fullmatch(r"\d{12}", result.holder_id):
        return PERSON_ID_TYPE
    return int(settings.get(settings.TAX_CODE_ID_TYPE))


def payload(result, state: str, version: int) -> dict:
    """The message for `result` in the portal's `state` (one of STATES), as the store reads it. The
    file link is added when the message is sent (with_link), so a retry days later carries a live one."""
    return {
        F_RESULT_CODE: result.code,
        "MaHoSo": result.dossier_code,
        "MaTTHC": result.procedure.code,
        "SoKyHieu": result.document_number,
        "TenGiayTo": result.summary,
        "NgayBanHanh": result.issue_date.isoformat(),
        "CoQuanBanHanh": current_app.config["DEPARTMENT_NAME"],
        F_STATE: STATES[state],
        F_IDENTIFIERS: [{F_ID_TYPE: _id_type(result), F_ID_NUMBER: result.holder_id}],
        F_VERSION: version,
    }


def idempotency_key(result_code: str, version: int) -> str:
    return f"{result_code}:{version}"


# --- the signed link to a result's file ------------------------------------------------------

def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=LINK_SALT)


def file_link(result_code: str) -> str:
    token = _signer().dumps(result_code)
    return current_app.config["BASE_URL"] + FILE_LINK_PATH + token


def code_from_link(token: str) -> str | None:
    """The result code a link was signed for, or None when it is forged or older than the link's days."""
    max_age = int(current_app.config["NATIONAL_STORE_LINK_DAYS"] * 86400)
    try:
        code = _signer().loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    return code if isinstance(code, str) else None


# --- posting -------------------------------------------------------------------------------

@dataclass
class Answer:
    accepted: bool
    status_code: int | None  # None: no answer (timeout, refused)
    text: str


def with_link(message: dict) -> dict:
    return {**message, F_FILE_LINK: file_link(message[F_RESULT_CODE])}


def connection() -> requests.Session:
    """One kept-alive connection for a run of posts (`with national_store.connection() as http:`):
    a new TCP connection per message cost the sender about half of its time (bench/api.py)."""
    return requests.Session()


def post(message: dict, key: str, http: requests.Session | None = None) -> Answer:
    """POST one message (on `http`'s kept connection if given); a 2xx answer is accepted, anything
    else (or none in time) is not."""
    config = current_app.config
    headers = {IDEMPOTENCY_HEADER: key}
    if config.get("NATIONAL_STORE_TOKEN"):
        headers["Authorization"] = f"Bearer {config['NATIONAL_STORE_TOKEN']}"
    try:
        response = (http or requests).post(config["NATIONAL_STORE_URL"], json=with_link(message), headers=headers,
                                 timeout=config["NATIONAL_STORE_TIMEOUT"], allow_redirects=False)
    except requests.RequestException as err:
        return Answer(False, None, f"{type(err).__name__}: {err}"[:ANSWER_KEPT])
    return Answer(200 <= response.status_code < 300, response.status_code, response.text[:ANSWER_KEPT])
