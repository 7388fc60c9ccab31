"""Every page a role can open renders (no 500s), with enough data to fill lists and pagers."""

import pytest

from .conftest import login, make_result


@pytest.mark.parametrize("who", ["admin", "staff_a", "reviewer_a", "holder_a"])
def test_every_page_renders(app, client, world, pdfs, who):
    app.config["PER_PAGE"] = 2
    results = [make_result(world, pdfs[n], document_number=f"{n + 1}/GP-SKHCN", reviewer="reviewer_a")
               for n in range(3)]
    login(client, who)
    urls = ["/", "/me/results", "/me/results?page=2", "/admin/", "/admin/results", "/admin/results?page=2",
            "/admin/results?q=GP-SKHCN", "/admin/review", "/admin/results/new", "/admin/units", "/admin/units/new",
            "/admin/users", "/admin/users/new", "/admin/procedures", "/admin/procedures/new",
            "/admin/audit", "/admin/audit?page=2&since=01/01/2020&until=31/12/2030", "/healthz"]
    for result in results:
        urls += [f"/admin/results/{result.id}", f"/admin/results/{result.id}/replace",
                 f"/admin/results/{result.id}/pages/1.png", f"/admin/results/{result.id}/file"]
    for url in urls:
        response = client.get(url, follow_redirects=True)
        assert response.status_code in (200, 403, 404), (url, response.status_code)
