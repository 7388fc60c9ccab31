"""What a unit's one-stop-shop system does through the API: push a result born digital, revoke
one. The metadata is checked as a batch row is (portal/imports/rows.py), the file as an upload
(portal/scans.py); the result is added by the same operations as staff's (results.add_draft,
add_publication), published at once or left for review as the unit says.

A push is idempotent: the same file and metadata at the same code answer "already there", so a
client may retry whatever it did not see answered."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..access import why_not_client
from ..extensions import db
from ..identifiers import InvalidInput, normalize_result_code, normalize_unit_code
from ..imports.manifest import COLUMNS, LABELS, ManifestRow
from ..imports.rows import RowError, RowInput, check_row, known_procedure, sentence
from ..models import ApiClient, Result
from ..models.results import BORN_DIGITAL, PUBLISHED, REVOKED
from ..scans import PreparedScan
from . import OperationError, transactional
from .imports import _Context, _procedure
from .results import ResultInput, _change_status, _reason, add_draft, add_publication

API_FILE = "(tệp gửi kèm)"  # the row's "file" column: the file comes in the request, not from a folder


class PushInvalid(OperationError):
    """The metadata or the file is not acceptable: `fields` says what is wrong with each (422)."""

    def __init__(self, fields: dict[str, str]):
        super().__init__(" ".join(fields.values()))
        self.fields = fields


class PushForbidden(OperationError):
    """Another unit's result, or another unit's code in the metadata (403)."""


class PushConflict(OperationError):
    """The code (or the file) already holds something else (409)."""


def check_metadata(client: ApiClient, code: str, metadata: dict, procedures: dict
                   ) -> tuple[RowInput, str | None, dict]:
    """The metadata as a checked row, the code it replaces, and any field errors (not raised, so
    that the caller can add the file's). PushForbidden for another unit's code. `procedures` keeps
    the catalogue's answers for the push that follows (one look-up a request)."""
    errors: dict[str, str] = {}
    values = dict.fromkeys(COLUMNS, "")
    for column in COLUMNS:
        value = metadata.get(column)
        if value is None:
            continue
        if not isinstance(value, str | int):
            errors[column] = sentence(f"{LABELS[column]} phải là chuỗi ký tự")
            continue
        values[column] = str(value).strip()
    try:
        code = normalize_result_code(code)
    except InvalidInput as err:
        errors["result_code"] = sentence(str(err))
    if values["result_code"] and values["result_code"] != code:
        try:
            same = normalize_result_code(values["result_code"]) == code
        except InvalidInput:
            same = False
        if not same:
            errors["result_code"] = "Mã kết quả trong dữ liệu khác mã kết quả trong đường dẫn."
    values["result_code"], values["file"] = code, API_FILE
    if not values["unit_code"]:
        values["unit_code"] = client.unit.code
    else:
        try:
            if normalize_unit_code(values["unit_code"]) != client.unit.code:
                raise PushForbidden("Ứng dụng kết nối chỉ được gửi kết quả của đơn vị mình.")
        except InvalidInput:
            pass  # check_row names it
    replaces = None
    if raw := metadata.get("replaces"):
        try:
            replaces = normalize_result_code(str(raw))
        except InvalidInput as err:
            errors["replaces"] = sentence(str(err))
    row = None
    try:
        row = check_row(ManifestRow(1, values), {client.unit.code: client.unit}, procedures)
    except RowError as err:
        errors.update(err.fields)
    return row, replaces, errors


def _same(result: Result, row: RowInput, sha256: str, replaces: str | None) -> bool:
    document = result.document
    if document is None or document.sha256 != sha256 or result.procedure.code != row.procedure_code:
        return False
    if (result.replaces.code if result.replaces else None) != replaces:
        return False
    for name, value in row.fields.items():
        if name == "result_code" or (name == "dossier_code" and value is None):
            continue  # the code it is found by; the dossier code is made from it
        if getattr(result, name) != value:
            return False
    return True


def _existing(client: ApiClient, code: str, row: RowInput, scan: PreparedScan, replaces: str | None) -> Result | None:
    """The result already at `code`, if it is this very push; PushForbidden or PushConflict if
    the code holds another unit's result or something else; None if the code is free."""
    result = db.session.scalars(select(Result).where(Result.code == code)).first()
    if result is None:
        return None
    if result.unit_id != client.unit_id:
        raise PushForbidden("Mã kết quả này thuộc đơn vị khác.")
    if not _same(result, row, scan.document.sha256, replaces):
        raise PushConflict(f"Mã kết quả {code} đã có một kết quả khác (tệp hoặc thông tin khác).")
    return result


def answer(result: Result) -> dict:
    """What the client is told of a result it pushed or revoked."""
    return {"result_code": result.code, "status": result.status, "published": result.status == PUBLISHED,
            "origin": result.origin, "replaces": result.replaces.code if result.replaces else None}


def push(client: ApiClient, code: str, row: RowInput, scan: PreparedScan, replaces_code: str | None,
         procedures: dict) -> tuple[dict, bool]:
    """(the answer, whether the result was made now). The scan is kept or discarded whatever happens."""
    code = row.fields["result_code"]
    try:
        try:
            existing = _existing(client, code, row, scan, replaces_code)
            if existing is not None:
                return answer(existing), False
            made = answer(_add(client, row, scan, replaces_code, procedures))  # before the commit expires it
            db.session.commit()
            return made, True
        except (IntegrityError, PushConflict) as err:
            # The same code (or file) stored meanwhile, maybe by a retry racing its first try:
            # seen at the commit, or by add_draft's own checks after ours.
            db.session.rollback()
            existing = _existing(client, code, row, scan, replaces_code)
            if existing is not None:
                return answer(existing), False
            if isinstance(err, PushConflict):
                raise
            raise PushConflict("Tệp này đã được lưu cho một kết quả khác; không lưu trùng.") from None
    except BaseException:
        db.session.rollback()
        raise
    finally:
        scan.discard()  # a no-op for the files kept


def _add(client: ApiClient, row: RowInput, scan: PreparedScan, replaces_code: str | None, procedures: dict
         ) -> Result:
    replaces = None
    if replaces_code:
        replaces = db.session.scalars(select(Result).where(Result.code == replaces_code)).first()
        if replaces is None or replaces.unit_id != client.unit_id:
            raise PushInvalid({"replaces": f"Không có kết quả {replaces_code} của đơn vị để thay thế."})
        if (reason := why_not_client(client, "replace", replaces)) is not None:
            raise PushInvalid({"replaces": reason})
    context = _Context(None, {client.unit.code: client.unit}, procedures)
    procedure = known_procedure(row.procedure_code, context.procedures) or _procedure(context, row)
    data = ResultInput(procedure=procedure, unit=client.unit, origin=BORN_DIGITAL, **row.fields)
    try:
        result = add_draft(None, data, scan, replaces=replaces)
    except OperationError as err:
        raise PushConflict(str(err)) from None
    if client.unit.push_publishes:
        add_publication(None, result)
    return result


def result_of_unit(client: ApiClient, code: str) -> Result | None:
    """A result of the client's unit by its code; another unit's answers PushForbidden."""
    try:
        code = normalize_result_code(code)
    except InvalidInput:
        return None
    result = db.session.scalars(select(Result).where(Result.code == code)).first()
    if result is not None and result.unit_id != client.unit_id:
        raise PushForbidden("Kết quả này không thuộc đơn vị của ứng dụng kết nối.")
    return result


@transactional
def revoke(client: ApiClient, result: Result, reason: str) -> bool:
    """Revoke as a reviewer does (the same rule, reason and audit event); True if done now,
    False if it was already revoked (a retry)."""
    if len((reason or "").strip()) < 5:
        raise PushInvalid({"reason": "Cần ghi rõ lý do thu hồi (ít nhất 5 ký tự)."})
    if result.status == REVOKED:
        return False
    if (why := why_not_client(client, "revoke", result)) is not None:
        raise OperationError(why)
    reason = _reason(reason, "thu hồi")
    _change_status(result, REVOKED, None, reason)
    audit.record("result.revoke", result=result, details={"reason": reason})
    return True
