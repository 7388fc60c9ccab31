"""The outbox to the national data store: a message per state of a published result, written in
the change's transaction, in the adapter's format; the signed link to the file."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import national_store, outbox
from portal.extensions import db
from portal.models import OutboxMessage, Result
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


def test_the_tax_code_type_is_a_setting(syncing, client, world, pdfs, clock):
    from .conftest import csrf_token, login

    login(client, "admin")
    url = "/admin/settings"
    form = {"csrf_token": csrf_token(client, url), "copy_fee": "0", "tax_code_id_type": "0",
            **{key: settings.DEFAULTS[key]
               for key in (settings.HELP_PHONE, settings.HELP_ADDRESS, settings.HELP_HOURS)}}
    refused = client.post(url, data=form)
    assert refused.status_code == 200 and "Mã loại định danh của mã số thuế" in refused.get_data(as_text=True)
    assert client.post(url, data={**form, "tax_code_id_type": "5"}).status_code == 302
    assert settings.get(settings.TAX_CODE_ID_TYPE) == 5
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


def test_a_batch_import_that_publishes_writes_a_message_per_result(syncing, world, tmp_path, pdfs, clock):
    from .test_import import row, write_csv

    scans = tmp_path / "batch" / "scans"
    scans.mkdir(parents=True)
    for n in (1, 2, 3):
        (scans / f"{n}.pdf").write_bytes(pdfs[n - 1])
    manifest = write_csv(tmp_path / "batch" / "lo.csv", [
        row(1), row(2, procedure_code="1.999999", procedure_name="Thủ tục mới của tỉnh", field="Sở hữu trí tuệ"),
        row(3, valid_until="2019-12-31")])
    done = syncing.test_cli_runner().invoke(args=["import-batch", str(manifest), "--files", str(tmp_path / "batch"),
                                                  "--publish"])
    assert done.exit_code == 0, done.output
    sent = [(m.result.document_number, m.version, m.state, m.payload["MaTTHC"]) for m in messages()]
    assert sorted(sent) == [("1/GP-SKHCN", 1, "hieu_luc", "1.010711"), ("2/GP-SKHCN", 1, "hieu_luc", "1.999999"),
                            ("3/GP-SKHCN", 1, "het_hieu_luc", "1.010711")]


def test_healthz_says_when_the_oldest_pending_message_is_over_an_hour_old(app, client, world, pdfs, clock):
    assert client.get("/healthz").get_json()["national_store"] == {"status": "off"}
    app.config["NATIONAL_STORE_URL"] = STORE
    try:
        make_result(world, pdfs[0], reviewer="reviewer_a", valid_until=None)
        clock.shift(timedelta(minutes=59))
        health = client.get("/healthz")
        assert health.status_code == 200 and health.get_json()["status"] == "ok"
        assert health.get_json()["national_store"] == {"status": "ok", "pending": 1, "failing": 0,
                                                       "oldest_pending_minutes": 59}
        clock.shift(timedelta(minutes=2))
        health = client.get("/healthz")
        assert health.status_code == 200 and health.get_json()["status"] == "warning"
        assert health.get_json()["national_store"]["status"] == "late"
    finally:
        app.config["NATIONAL_STORE_URL"] = ""


def test_reconcile_queues_unsynced_states_and_what_the_receiver_did_not_acknowledge(app, world, pdfs, clock,
                                                                                     tmp_path):
    before = make_result(world, pdfs[0], reviewer="reviewer_a", valid_until=None)  # published before the sync
    runner = app.test_cli_runner()
    assert runner.invoke(args=["sync-reconcile"]).exit_code != 0  # nothing to reconcile with
    app.config["NATIONAL_STORE_URL"] = STORE
    try:
        after = make_result(world, pdfs[1], reviewer="reviewer_a", valid_until=None, document_number="9/GP-SKHCN")
        ops.revoke(world["reviewer_a"], after, "Thu hồi theo đề nghị")
        done = runner.invoke(args=["sync-reconcile"])
        assert done.output == "written 1\nrequeued 0\n"
        assert [(m.version, m.state) for m in messages(before)] == [(1, "hieu_luc")]
        assert runner.invoke(args=["sync-reconcile"]).output == "written 0\nrequeued 0\n"
        for message in messages():
            message.status = "sent"
        db.session.commit()
        # The receiver holds the first result's message and the second's last one, not its first.
        held = tmp_path / "acknowledged.txt"
        held.write_text(f"{before.code}:1\n{after.code}:2\n")
        done = runner.invoke(args=["sync-reconcile", "--acknowledged", str(held)])
        assert done.output == "written 0\nrequeued 2\n"  # both of `after`'s, to go again in order
        assert [(m.version, m.status) for m in messages(after)] == [(1, "pending"), (2, "pending")]
        assert [m.status for m in messages(before)] == ["sent"]
    finally:
        app.config["NATIONAL_STORE_URL"] = ""


def test_the_sync_page_shows_staff_their_units_messages_and_lets_an_admin_send_again(syncing, world, pdfs, clock):
    from portal.models import AuditEvent

    from .conftest import csrf_token, login

    mine = make_result(world, pdfs[0], reviewer="reviewer_a", valid_until=None)
    theirs = make_result(world, pdfs[1], staff="staff_b", reviewer="reviewer_b", valid_until=None,
                         document_number="9/GP-TĐC")
    message = messages(mine)[0]
    message.status, message.attempts, message.last_status_code, message.last_answer = "failing", 40, 503, "bảo trì"
    message.last_attempt_at, message.next_attempt_at = message.created_at, message.created_at + timedelta(hours=1)
    db.session.commit()

    staff = syncing.test_client()
    login(staff, "staff_a")
    page = staff.get("/admin/sync").get_data(as_text=True)
    assert mine.code in page and theirs.code not in page and "bảo trì" in page and "503" in page
    assert "Gửi lại ngay" not in page  # sending again is an admin's
    assert theirs.code not in staff.get("/admin/sync?status=pending").get_data(as_text=True)
    token = csrf_token(staff, "/admin/sync")
    assert staff.post(f"/admin/sync/{message.id}/retry", data={"csrf_token": token}).status_code == 404

    admin = syncing.test_client()
    login(admin, "admin")
    page = admin.get("/admin/sync?status=failing").get_data(as_text=True)
    assert mine.code in page and theirs.code not in page and "Gửi lại ngay" in page
    token = csrf_token(admin, "/admin/sync")
    assert admin.post(f"/admin/sync/{message.id}/retry").status_code == 400  # no CSRF token: nothing done
    db.session.refresh(message)
    assert message.next_attempt_at > message.created_at + timedelta(minutes=59)
    done = admin.post(f"/admin/sync/{message.id}/retry?status=failing", data={"csrf_token": token})
    assert done.status_code == 302 and done.headers["Location"].endswith("/admin/sync?status=failing")
    db.session.refresh(message)
    assert message.next_attempt_at <= message.created_at + timedelta(minutes=1)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "sync.retry")).one()
    assert event.result_id == mine.id and event.actor_name


def test_a_pushed_result_and_its_revocation_through_the_api_reach_the_outbox(syncing, world, pdfs, clock):
    from .conftest import UNIT_A
    from .test_push import CODE, Machine, metadata

    one_stop = Machine(syncing.test_client(), UNIT_A, "Một cửa A")
    assert one_stop.put(CODE, metadata(), pdfs[0]).status_code == 201
    assert one_stop.put(CODE, metadata(), pdfs[0]).status_code == 200  # a retry writes nothing more
    assert one_stop.revoke(CODE).status_code == 200
    pushed = db.session.scalars(select(Result).where(Result.code == CODE)).one()
    assert [(m.version, m.state) for m in messages(pushed)] == [(1, "hieu_luc"), (2, "thu_hoi")]
    assert messages(pushed)[0].payload["MaKetQua"] == CODE


def test_the_expiry_check_and_a_revocation_of_the_same_result_wait_for_each_other(syncing, world, pdfs, clock):
    """PostgreSQL: a change of the result waits for an expiry check holding its row, then writes
    the next PhienBan (no collision on (result, version), no error); the expiry check skips a
    result being changed rather than waiting for it. SQLite writes one transaction at a time."""
    import threading

    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from portal.models import User

    from .conftest import VIETNAM, datetime

    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    result = make_result(world, pdfs[0], reviewer="reviewer_a", valid_until="20/06/2026")
    result_id, reviewer_id = result.id, world["reviewer_a"].id
    clock.move_to(datetime(2026, 6, 21, 8, 0, tzinfo=VIETNAM))

    with Session(db.engine) as change:  # a clerk's change of the result, not committed yet
        change.execute(select(Result.id).where(Result.id == result_id).with_for_update())
        db.session.execute(text("SET LOCAL lock_timeout = '5s'"))  # a wait fails the test, not hangs it
        assert outbox.queue_expired() == 0  # skipped, not waited for
        change.rollback()

    failures = []

    def revoke():
        with syncing.app_context():
            try:
                ops.revoke(db.session.get(User, reviewer_id), db.session.get(Result, result_id), "Thu hồi theo đề nghị")
            except Exception as err:  # noqa: BLE001 - the test reports it
                failures.append(err)

    with Session(db.engine) as expiry:  # the expiry check, half-way through its transaction
        expiry.execute(select(Result.id).where(Result.id == result_id).with_for_update())
        expiry.add(OutboxMessage(result_id=result_id, version=2, state="het_hieu_luc", payload={}, status="pending"))
        expiry.flush()
        revoking = threading.Thread(target=revoke)
        revoking.start()
        revoking.join(timeout=1)
        assert revoking.is_alive()  # waiting for the row
        expiry.commit()
    revoking.join(timeout=30)
    assert not revoking.is_alive() and failures == []
    db.session.expire_all()
    assert [(m.version, m.state) for m in messages(result)] == [(1, "hieu_luc"), (2, "het_hieu_luc"), (3, "thu_hoi")]
