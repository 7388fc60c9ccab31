"""'Dữ liệu của tôi' in a real browser, at 1280 and 390 px: the button on the "who looked" page
downloads the ZIP; a store over the limit gets a page that queues a background build, shows its
progress and then a download link. Every page reached passes check_page; screenshots are `mydata-...`."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from .browser_kit import WIDTHS, browser_marks, check_page, login, new_page

pytestmark = browser_marks()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("width", "label"), WIDTHS)
def test_a_holder_downloads_their_data_now_and_in_the_background(app, live_server, browser, world, pdfs, width,
                                                                  label):
    from portal import jobs
    from portal.extensions import db

    from .conftest import make_result

    results = [make_result(world, pdfs[i], reviewer="reviewer_a", valid_until=None) for i in range(2)]
    page = new_page(browser, width, accept_downloads=True)
    login(page, live_server, "holder_a")
    page.goto(f"{live_server}/me/access")
    check_page(page, f"mydata-01-access-page-{label}")
    with page.expect_download() as download:
        page.get_by_role("link", name="Tải dữ liệu của tôi").click()
    archive = zipfile.ZipFile(Path(download.value.path()))
    index = json.loads(archive.read("index.json"))
    assert sorted(r["code"] for r in index["results"]) == sorted(r.code for r in results)
    assert download.value.suggested_filename.startswith("du-lieu-cua-toi-")

    # Over the limit: a page, a button, the build in the background, then its link.
    app.config["MYDATA_MAX_RESULTS"] = 1
    page.goto(f"{live_server}/me/data")
    page.get_by_role("heading", name="Dữ liệu của tôi").wait_for()
    check_page(page, f"mydata-02-large-store-{label}")
    page.get_by_role("button", name="Đóng gói dữ liệu của tôi").click()
    page.get_by_text("Đã nhận yêu cầu").wait_for()
    assert "Đang chờ" in page.inner_text("main")
    check_page(page, f"mydata-03-queued-{label}")
    with app.app_context():
        assert jobs.run_once()
        db.session.remove()
    # The progress part updates itself (mydata.js), without a reload.
    page.get_by_role("link", name="Tải tệp ZIP").wait_for()
    assert "Sẵn sàng tải về" in page.inner_text("main")
    check_page(page, f"mydata-04-ready-{label}")
    with page.expect_download() as download:
        page.get_by_role("link", name="Tải tệp ZIP").click()
    data = Path(download.value.path()).read_bytes()
    assert zipfile.ZipFile(Path(download.value.path())).testzip() is None
    from portal.models import DataExport

    with app.app_context():
        assert hashlib.sha256(data).hexdigest() == db.session.query(DataExport).one().sha256
        db.session.remove()
