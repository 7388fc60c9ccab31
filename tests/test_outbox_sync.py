"""Sending the outbox to a national data store that misbehaves (tests/national_receiver.py): in
PhienBan order per result, retried with backoff, never lost, also when the worker is killed mid-send."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from portal import outbox
from portal.extensions import db
from portal.models import OutboxMessage, Procedure, Result, ResultStatusChange
from portal.models.results import DRAFT
from portal.operations import results as ops

from .conftest import CCCD_A, make_result

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def syncing(app, receiver):
    app.config.update(NATIONAL_STORE_URL=receiver.url, NATIONAL_STORE_TOKEN="ma-thu-nghiem",
                      NATIONAL_STORE_TIMEOUT=3, NATIONAL_STORE_RETRY_SECONDS=0.02,
                      NATIONAL_STORE_RETRY_MAX_SECONDS=0.3)
    receiver.misbehave(token="ma-thu-nghiem")
    yield app
    app.config["NATIONAL_STORE_URL"] = ""


def drafts(world, n: int, start: int = 0) -> list[Result]:
    """`n` drafts of unit A, straight into the tables (the burst is about the sync, not the scans)."""
    staff = world["staff_a"]
    procedure = db.session.scalars(select(Procedure).where(Procedure.code == "1.010711")).one()
    made = []
    for i in range(start, start + n):
        result = Result(code=f"000.02.21.H48-260615-{i:04d}-KQ1", dossier_code=f"000.02.21.H48-260615-{i:04d}",
                        procedure_id=procedure.id, unit_id=staff.unit_id, document_number=f"{i + 1}/GP-SKHCN",
                        issue_date=date(2026, 6, 1), signer_name="Trần Văn Hùng", signer_title="Giám đốc",
                        summary=f"Giấy phép số {i}", holder_kind="person", holder_id=CCCD_A,
                        holder_name="Phạm Minh Khánh", valid_from=date(2026, 6, 1), status=DRAFT,
                        formed_year=2026, digitized_by_id=staff.id)
        db.session.add(result)
        db.session.add(ResultStatusChange(result=result, from_status=None, to_status=DRAFT, actor_id=staff.id))
        made.append(result)
    db.session.commit()
    return made


def drain(deadline_seconds: float = 60) -> None:
    deadline = time.monotonic() + deadline_seconds
    while True:
        if outbox.send_due(limit=500) == 0:
            counts = outbox.counts()
            if counts["pending"] == 0 and counts["failing"] == 0:
                return
            time.sleep(0.02)
        assert time.monotonic() < deadline, outbox.counts()


def assert_received_in_order_and_complete(receiver) -> None:
    """Each result's messages arrived in PhienBan order (a duplicate only right after itself), every
    message written arrived, and the last one of each result is its last state."""
    by_result = defaultdict(list)
    for record in receiver.kept():
        code, version = record["key"].rsplit(":", 1)
        assert int(version) == record["body"]["PhienBan"] and code == record["body"]["MaKetQua"]
        by_result[code].append((int(version), record["body"]["TrangThai"]))
    written = defaultdict(list)
    for message in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.version)):
        assert message.status == "sent"
        written[message.payload["MaKetQua"]].append((message.version, message.state))
    assert set(by_result) == set(written)
    for code, arrived in by_result.items():
        versions = [v for v, _ in arrived]
        assert versions == sorted(versions), (code, versions)  # never an earlier one after a later one
        assert sorted(set(arrived)) == written[code], code  # nothing missing, nothing made up
        assert arrived[-1] == written[code][-1]
        assert [v for v, _ in written[code]] == list(range(1, len(written[code]) + 1))


def test_messages_go_out_in_order_with_their_key_token_and_link(syncing, receiver, client, world, pdfs, clock):
    result = make_result(world, pdfs[0], reviewer="reviewer_a", valid_until=None)
    ops.revoke(world["reviewer_a"], result, "Thu hồi theo đề nghị")
    assert outbox.send_due() == 2
    got = receiver.received()
    assert [(r["key"], r["body"]["TrangThai"], r["answer"]) for r in got] == [
        (f"{result.code}:1", "hieu_luc", 200), (f"{result.code}:2", "thu_hoi", 200)]
    assert {r["authorization"] for r in got} == {"Bearer ma-thu-nghiem"}
    link = got[0]["body"]["DuongDanTepTinKetQua"]
    assert client.get(link[len(syncing.config["BASE_URL"]):]).data == pdfs[0]
    runner = syncing.test_cli_runner()
    assert runner.invoke(args=["sync-status"]).output == "pending 0\nsent 2\nfailing 0\n"


def test_a_refused_message_is_retried_later_and_holds_back_the_next(syncing, receiver, world, pdfs, clock):
    result = make_result(world, pdfs[0], reviewer="reviewer_a", valid_until=None)
    ops.revoke(world["reviewer_a"], result, "Thu hồi theo đề nghị")
    receiver.misbehave(fail_every=1)
    assert outbox.send_due() == 1  # the first is refused; the second waits for it
    first, second = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.version)).all()
    assert (first.status, first.attempts, first.last_status_code, second.attempts) == ("pending", 1, 500, 0)
    assert "error" in first.last_answer
    assert timedelta(seconds=0.01) <= first.next_attempt_at - first.last_attempt_at <= timedelta(seconds=0.02)
    for _ in range(5):
        clock.shift(timedelta(seconds=1))
        assert outbox.send_due() == 1
    db.session.refresh(first)
    # Doubling up to the cap, with jitter: never earlier than half the step.
    assert first.attempts == 6 and timedelta(seconds=0.15) <= first.next_attempt_at - first.last_attempt_at
    assert first.next_attempt_at - first.last_attempt_at <= timedelta(seconds=0.3)
    clock.shift(timedelta(hours=24))
    outbox.send_due()
    db.session.refresh(first)
    assert first.status == "failing"  # flagged after a day of failures, and still retried
    assert syncing.test_cli_runner().invoke(args=["sync-status"]).output == "pending 1\nsent 0\nfailing 1\n"
    receiver.misbehave(fail_every=0)
    clock.shift(timedelta(seconds=1))
    drain()
    assert [r["key"] for r in receiver.kept()] == [f"{result.code}:1", f"{result.code}:2"]


def burst(world, receiver, n: int) -> int:
    """Publish `n` results, revoke a quarter, replace a quarter, revoke some replacements, sending between
    the changes through a receiver that fails one time in three, stalls now and then and goes down for a while."""
    from flask import current_app

    reviewer = world["reviewer_a"]
    # A short timeout keeps the stalls cheap; an answer late for another reason is only one more duplicate.
    current_app.config["NATIONAL_STORE_TIMEOUT"] = 0.3
    receiver.misbehave(fail_every=3, stall_every=53, stall_seconds=0.6)
    results = drafts(world, n)
    changes = 0

    def some_sending():
        outbox.send_due(limit=25)

    for i, result in enumerate(results):
        ops.publish(reviewer, result, seen_version=result.version)
        changes += 1
        if i % 20 == 0:
            some_sending()
    receiver.stop()  # down for a while
    for result in results[: n // 4]:
        ops.revoke(reviewer, result, "Thu hồi theo đề nghị")
        changes += 1
    some_sending()
    receiver.start()
    replacing = results[n // 4: n // 2]
    new = drafts(world, len(replacing), start=n)
    for i, (old, fresh) in enumerate(zip(replacing, new, strict=True)):
        fresh.replaces_id = old.id
        db.session.commit()
        ops.publish(reviewer, fresh, seen_version=fresh.version)
        changes += 2
        if i % 10 == 0:
            some_sending()
    for fresh in new[::3]:
        ops.revoke(reviewer, fresh, "Thu hồi bản thay thế")
        changes += 1
    return changes


def test_a_burst_of_changes_arrives_complete_and_in_order(syncing, receiver, world, clock):
    changes = burst(world, receiver, 240)
    assert changes >= 400
    drain()
    kept = receiver.kept()
    assert len({r["key"] for r in kept}) == changes
    assert any(r["answer"] == 500 for r in receiver.received()) and any(r["stalled"] for r in kept)
    assert len(kept) > len({r["key"] for r in kept})  # the stalls made duplicates, harmless
    assert_received_in_order_and_complete(receiver)


@pytest.mark.slow
def test_a_burst_of_a_thousand_changes(syncing, receiver, world, clock):
    assert burst(world, receiver, 600) >= 1000
    drain(180)
    assert_received_in_order_and_complete(receiver)


def start_worker(app, receiver, log: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "PORTAL_DATA_DIR": app.config["PORTAL_DATA_DIR"], "SECRET_KEY": app.config["SECRET_KEY"],
           "PORTAL_NATIONAL_STORE_URL": receiver.url, "PORTAL_NATIONAL_STORE_TOKEN": "ma-thu-nghiem",
           "PORTAL_NATIONAL_STORE_TIMEOUT": "8", "PORTAL_NATIONAL_STORE_RETRY_SECONDS": "0.05",
           "PORTAL_NATIONAL_STORE_RETRY_MAX_SECONDS": "0.3", "PYTHONPATH": str(ROOT)}
    with open(log, "ab") as errors:
        return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--interval", "0.1"],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=errors)


def wait_for(condition, seconds: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.05)


def test_a_worker_killed_in_the_middle_of_a_send_loses_nothing(syncing, receiver, world, tmp_path):
    reviewer = world["reviewer_a"]
    results = drafts(world, 30)
    for result in results:
        ops.publish(reviewer, result, seen_version=result.version)
    for result in results[::2]:
        ops.revoke(reviewer, result, "Thu hồi theo đề nghị")
    receiver.misbehave(fail_every=4, stall_every=13, stall_seconds=30)
    worker = start_worker(syncing, receiver, tmp_path / "worker.log")
    try:
        wait_for(lambda: any(r["stalled"] for r in receiver.received()), what="a stalled send")
        worker.send_signal(signal.SIGKILL)  # while it waits for the stalled answer
        worker.wait(timeout=10)
        stalled = next(r["key"] for r in receiver.received() if r["stalled"])
        db.session.commit()
        code, version = stalled.rsplit(":", 1)
        message = db.session.scalars(select(OutboxMessage).join(Result).where(
            Result.code == code, OutboxMessage.version == int(version))).one()
        assert message.status == "pending"  # not marked sent: it goes again

        receiver.misbehave(stall_every=0)
        worker = start_worker(syncing, receiver, tmp_path / "worker.log")

        def all_sent():
            db.session.commit()
            return outbox.counts() == {"pending": 0, "sent": 45, "failing": 0}

        wait_for(all_sent, what="every message sent")
        worker.send_signal(signal.SIGTERM)  # a clean stop
        assert worker.wait(timeout=20) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert "worker stopped" in (tmp_path / "worker.log").read_text()
    assert [r["key"] for r in receiver.kept()].count(stalled) == 2  # once before the kill, once after
    assert_received_in_order_and_complete(receiver)
