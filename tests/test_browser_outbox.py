"""Issue 15's sync page in a real browser: an admin finds a message the national data store refused,
reads its answer, sends it again, and sees it sent; at desktop and phone widths. Screenshots `sync-...`."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from .browser_kit import WIDTHS, browser_marks, check_page, login, new_page

pytestmark = browser_marks()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("width", "label"), WIDTHS)
def test_an_admin_reads_a_refusal_and_sends_the_message_again(app, live_server, browser, world, pdfs, receiver,
                                                               width, label):
    from portal import outbox
    from portal.extensions import db
    from portal.models import OutboxMessage

    from .conftest import make_result

    app.config.update(NATIONAL_STORE_URL=receiver.url, NATIONAL_STORE_TIMEOUT=2, NATIONAL_STORE_RETRY_SECONDS=3600)
    try:
        result = make_result(world, pdfs[0], reviewer="reviewer_a", valid_until=None)
        receiver.misbehave(fail_every=1)
        assert outbox.send_due() == 1
        message = db.session.scalars(db.select(OutboxMessage)).one()
        message.first_failed_at -= timedelta(hours=25)  # a day of refusals already
        message.status = "failing"
        db.session.commit()

        page = new_page(browser, width)
        login(page, live_server, "admin")
        page.goto(f"{live_server}/admin/sync")
        assert page.get_by_text(result.code).first.is_visible()
        assert page.get_by_text("lỗi thử nghiệm").first.is_visible() or "500" in page.content()
        check_page(page, f"sync-01-failing-{label}")
        page.get_by_role("button", name="Gửi lại ngay").click()
        page.get_by_text(re.compile("sẽ được gửi lại ngay")).wait_for()
        check_page(page, f"sync-02-sent-again-{label}")

        receiver.misbehave(fail_every=0)
        assert outbox.send_due() == 1
        page.get_by_role("link", name=re.compile("Đã gửi")).click()
        page.get_by_role("cell", name="Đã gửi").wait_for()
        check_page(page, f"sync-03-sent-{label}")
        page.context.close()
    finally:
        app.config["NATIONAL_STORE_URL"] = ""
