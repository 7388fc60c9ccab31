"""The outbox to the national data store: a message per state of a published result, written in
the change's transaction, in the adapter's format; the signed link to the file."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import national_store, outbox
from portal.extensions import db
from portal.models import OutboxMessage
from portal.operations import OperationError, settings
from portal.operations import results as ops

from .conftest import MST_C, make_result

STORE = "http://127.0.0.1:9/national-store"


@pytest.fixture
def syncing(app):
    app.config["NATIONAL_STORE_URL"] = STORE
    yield app
    app.config["NATIONAL_STORE_URL"] = ""


def messages(result=None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.result_id, OutboxMessage.version)
    if result is not None:
        query = query.where(OutboxMessage.result_id == result.id)
    return db.session.scalars(query).all()


def test_nothing_is_written_without_an_address(app, world, pdfs, clock):
    result = make_result(world, pdfs[0], reviewer="reviewer_a", valid_until=None)
    ops.revoke(world["reviewer_a"], result, "Thu hồi theo đề nghị")
    assert messages() == []


def test_publish_revoke_and_replace_write_their_messages(syncing, world, pdfs, clock):
    draft = make_result(world, pdfs[0], valid_until=None)
    assert messages() == []  # a draft is nobody's business outside
    ops.publish(world["reviewer_a"], draft, seen_version=draft.version)
    first = make_result(world, pdfs[1], reviewer="reviewer_a", valid_until=None, holder_id=MST_C,
                        holder_name="Công ty TNHH Minh Phát", document_number="7/GP-SKHCN")
    new = make_result(world, pdfs[2], reviewer="reviewer_a", valid_until=None, replaces=first,
                      document_number="8/GP-SKHCN")
    ops.revoke(world["reviewer_a"], draft, "Thu hồi theo đề nghị")
    with pytest.raises(OperationError):  # refused: nothing of it is written
        ops.revoke(world["reviewer_a"], new, "x")

    assert [(m.version, m.state) for m in messages(draft)] == [(1, "hieu_luc"), (2, "thu_hoi")]
    assert [(m.version, m.state) for m in messages(first)] == [(1, "hieu_luc"), (2, "thay_the")]
    assert [(m.version, m.state) for m in messages(new)] == [(1, "hieu_luc")]
    body = messages(draft)[0].payload
    assert body == {
        "MaKetQua": draft.code, "MaHoSo": draft.dossier_code, "MaTTHC": "1.010711", "SoKyHieu": "125/GP-SKHCN",
        "TenGiayTo": draft.summary, "NgayBanHanh": "2019-03-15", "CoQuanBanHanh": syncing.config["DEPARTMENT_NAME"],
        "TrangThai": "hieu_luc", "DinhDanhCHS": [{"LoaiDinhDanh": 1, "SoDinhDanh": draft.holder_id}], "PhienBan": 1,
    }
    assert messages(first)[0].payload["DinhDanhCHS"] == [{"LoaiDinhDanh": 3, "SoDinhDanh": MST_C}]
    assert all(m.status == "pending" and m.attempts == 0 for m in messages())


def test_the_tax_code_type_is_a_setting(syncing, world, pdfs, clock):
    settings.change(world["admin"], settings.TAX_CODE_ID_TYPE, 5)
    result = make_result(world, pdfs[1], reviewer="reviewer_a", valid_until=None, holder_id=MST_C,
                         holder_name="Công ty TNHH Minh Phát")
    assert messages(result)[0].payload["DinhDanhCHS"][0]["LoaiDinhDanh"] == 5


def test_expiry_is_written_once_when_the_day_has_passed(syncing, world, pdfs, clock):
    from .conftest import VIETNAM, datetime

    result = make_result(world, pdfs[0], reviewer="reviewer_a", valid_until="20/06/2026")
    never_synced = make_result(world, pdfs[1], reviewer="reviewer_a", valid_until="20/06/2026",
                               document_number="9/GP-SKHCN")
    db.session.execute(OutboxMessage.__table__.delete().where(OutboxMessage.result_id == never_synced.id))
    db.session.commit()
    clock.move_to(datetime(2026, 6, 20, 23, 59, tzinfo=VIETNAM))  # valid all of its last day
    assert outbox.queue_expired() == 0
    clock.move_to(datetime(2026, 6, 21, 0, 1, tzinfo=VIETNAM))
    assert outbox.queue_expired() == 1
    assert outbox.queue_expired() == 0
    assert [(m.version, m.state) for m in messages(result)] == [(1, "hieu_luc"), (2, "het_hieu_luc")]
    assert messages(never_synced) == []
    ops.revoke(world["reviewer_a"], result, "Thu hồi theo đề nghị")  # an expired result may still be revoked
    assert [m.state for m in messages(result)] == ["hieu_luc", "het_hieu_luc", "thu_hoi"]


def test_a_result_published_after_its_validity_goes_out_as_expired(syncing, world, pdfs, clock):
    result = make_result(world, pdfs[0], reviewer="reviewer_a", valid_until="15/03/2022")
    assert [m.state for m in messages(result)] == ["het_hieu_luc"]
    assert outbox.queue_expired() == 0


def test_the_signed_link_serves_the_file_until_it_expires(syncing, client, world, pdfs, clock):
    result = make_result(world, pdfs[0], reviewer="reviewer_a", valid_until=None)
    draft = make_result(world, pdfs[1], document_number="9/GP-SKHCN")
    link = national_store.file_link(result.code)
    assert link.startswith(syncing.config["BASE_URL"] + "/national-store/files/")
    path = link[len(syncing.config["BASE_URL"]):]
    answer = client.get(path)
    assert answer.status_code == 200 and answer.data == pdfs[0]
    assert client.get(path[:-2] + ("AA" if not path.endswith("AA") else "BB")).status_code == 404
    draft_link = national_store.file_link(draft.code)[len(syncing.config["BASE_URL"]):]
    assert client.get(draft_link).status_code == 404  # a draft is not sent anywhere
    with syncing.test_request_context():
        forged = national_store.URLSafeTimedSerializer("another-key", salt=national_store.LINK_SALT).dumps(result.code)
    assert client.get(f"/national-store/files/{forged}").status_code == 404
    clock.shift(timedelta(days=7, minutes=1))
    assert client.get(path).status_code == 404
