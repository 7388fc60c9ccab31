"""What every browser journey shares: Chromium's marks, fresh pages, screenshots, and the page checks.

The `live_server` and `browser` fixtures live in conftest.py. Each journey runs at the two widths the
portal is built for (WIDTHS) and, on every page it reaches, calls `check_page`: axe finds no violation
of impact serious or critical, and the page does not scroll sideways. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
WIDTHS = [(1280, "desktop"), (390, "phone")]
BLOCKING_IMPACTS = {"serious", "critical"}


def browser_marks() -> list:
    """The marks a browser test module sets: `browser`, and a skip where Chromium is missing."""
    marks = [pytest.mark.browser]
    if not Path(CHROMIUM).exists():
        if os.environ.get("REQUIRE_BROWSER") == "1":
            raise RuntimeError("REQUIRE_BROWSER=1 but /usr/bin/chromium is missing")
        marks.append(pytest.mark.skip(reason="Debian's chromium is not installed"))
    return marks


def new_page(browser, width: int = 1280, **options):
    """A fresh context (no cookies) at the given width, in Vietnamese, and its page."""
    height = 844 if width < 600 else 900
    context = browser.new_context(locale="vi-VN", viewport={"width": width, "height": height},
                                  is_mobile=width < 600, has_touch=width < 600, **options)
    return context.new_page()


def shot(page, name: str, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def login(page, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()


_axe = None


def accessibility_violations(page) -> list[str]:
    """axe-core's serious and critical findings on the page as it stands, one line each."""
    global _axe
    if _axe is None:
        from axe_playwright_python.sync_playwright import Axe

        _axe = Axe()
    found = _axe.run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['help']} — " + "; ".join(n["target"][0] for n in v["nodes"][:5])
            for v in found if v.get("impact") in BLOCKING_IMPACTS]


SIDEWAYS = """() => {
    const width = document.documentElement.clientWidth;
    const wide = [...document.querySelectorAll("body *")].filter(el => {
        const box = el.getBoundingClientRect();
        return box.width > 0 && box.right > width + 1 && getComputedStyle(el).position !== "fixed"
            && !el.closest(".scroll-x");
    });
    return {scroll: document.documentElement.scrollWidth, width,
            wide: wide.slice(0, 5).map(el => el.tagName.toLowerCase() + (el.className ? "." + el.className : ""))};
}"""


def check_page(page, name: str | None = None) -> None:
    """The page as it stands: no serious or critical axe finding, no sideways scrolling; a screenshot if named."""
    page.wait_for_load_state()
    overflow = page.evaluate(SIDEWAYS)
    assert overflow["scroll"] <= overflow["width"], f"{page.url} scrolls sideways: {overflow}"
    violations = accessibility_violations(page)
    assert not violations, f"{page.url}:\n" + "\n".join(violations)
    if name:
        shot(page, name)
