"""Certified-copy benchmark: time and memory to issue a copy of a 1-page and a 10-page result.

    .venv/bin/python bench/copies.py            # 30 copies of each
    .venv/bin/python bench/copies.py --runs 100
    .venv/bin/python bench/copies.py --concurrent 40 --requests 120 [--database-url URL]
    .venv/bin/python bench/copies.py --long-term [--runs 30]

`--concurrent N` measures issuing under load instead: a real gunicorn (gunicorn.conf.py, two
workers) serving N logged-in clients who ask the API for copies at once, with register numbers
reserved before rendering (now) and with the retry path they replaced as the baseline
(bench/copies_retry_path.py): requests/s, p50/p95 latency, refusals, renders per copy.
`--database-url` names an empty PostgreSQL database (default: SQLite in a temporary directory).

Sets up a throw-away portal (SQLite, its own data directory, the demo signing key), stores a
1-page and a 10-page result made like the demo's, then:

- end to end: `operations.copies.issue_copy` as a web request calls it (render, merge and sign in
  the rendering process, store the file, write the register row and the audit event);
- the pipeline's stages, run in the rendering process: WeasyPrint render, pypdf merge, pyHanko sign;
- peak memory: the rendering process's peak RSS after the runs of each size (a fresh process each);
- the baseline, in the same run and the same (bench) process as the portal's pipeline: the same
  pipeline as first written: fonts registered by every render, the QR code as SVG, the pages
  merged with pypdf, pyHanko's stock SimpleSigner (it parses the private key at every signature)
  and the full DejaVu Sans for the signature's appearance.

`--long-term` measures the B-LT path instead (issue 17): the demo time-stamping authority and CRL
(portal/copies/demo_pki.py) in their own process on 127.0.0.1, a 1-page copy issued with a signature
timestamp and validation data (B-LT), with a document timestamp too (B-LTA), and without either as
the baseline (B-B, the path before), in the same run; with how many times the rendering process
fetched the CRL and the authority's certificates (once per validity window, not per copy).

Figures go to docs/BENCHMARKS.md, between this benchmark's markers.
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from search import write_section  # noqa: E402


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _percentiles(values: list[float]) -> tuple[float, float]:
    values = sorted(values)
    return statistics.median(values), values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]


def new_portal(data_dir: Path, database_url: str | None = None, **config):
    """A throw-away portal for a bench: migrated, one unit, its radiation procedure, a staff member
    and a reviewer (password Bench-password-1), its app context pushed. (app, unit, procedure,
    staff, reviewer)"""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from portal import create_app
    from portal.config import database_url as driver_url
    from portal.extensions import db
    from portal.models import Procedure
    from portal.operations import accounts

    url = driver_url(database_url) if database_url else f"sqlite:///{data_dir / 'bench.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PORTAL_DATA_DIR": str(data_dir), "SECRET_KEY": "bench",
                      "SEARCH_INDEXER_INTERVAL": 0, "SEARCH_REBUILD_IN_BACKGROUND": False, **config})
    app.app_context().push()
    upgrade()
    unit = accounts.create_unit(None, "000.02.21.H48", "Phòng Quản lý chuyên ngành")
    accounts.save_procedure(None, "1.010711", "Cấp giấy phép tiến hành công việc bức xạ - Sử dụng thiết bị X-quang "
                            "chẩn đoán trong y tế", "An toàn bức xạ và hạt nhân", None)
    staff = accounts.create_user(None, "staff", "staff", "Bench-password-1", unit_code=unit.code)
    reviewer = accounts.create_user(None, "reviewer", "reviewer", "Bench-password-1", unit_code=unit.code)
    return app, unit, db.session.scalars(select(Procedure)).one(), staff, reviewer


def _setup(data_dir: Path, database_url: str | None = None, **config):
    import io

    from portal.demo.documents import Spec, render_many
    from portal.operations import accounts
    from portal.operations import results as ops
    from portal.scans import Spooled, prepare
    from portal.storage import storage

    app, unit, procedure, staff, reviewer = new_portal(data_dir, database_url, **config)
    holder = accounts.create_user(None, "holder", "holder", "Bench-password-1", holder_id="051089004217")
    results = {}
    for pages in (1, 10):
        pdf = render_many([Spec(
            department="Sở Khoa học và Công nghệ tỉnh Quảng Ngãi", province="Quảng Ngãi", number=f"{pages}/GP-SKHCN",
            issue_date=date(2019, 5, 1), title="GIẤY PHÉP TIẾN HÀNH CÔNG VIỆC BỨC XẠ", holder_label="Người được cấp",
            holder_name="Phạm Minh Khánh", holder_id="051089004217", address="Số 12 Hùng Vương, Quảng Ngãi",
            signer_name="Trần Văn Hùng", signer_title="Giám đốc", body=["Thiết bị X-quang chẩn đoán."] * 3,
            pages=pages)])[0]
        path, sha, size = storage().spool(io.BytesIO(pdf))
        scan = prepare(storage(), Spooled(path, sha, size, ""), f"{pages}.pdf")
        data = ops.ResultInput(
            procedure=procedure, unit=unit, document_number=f"{pages}/GP-SKHCN", issue_date=date(2019, 5, 1),
            signer_name="Trần Văn Hùng", signer_title="Giám đốc",
            summary="Giấy phép tiến hành công việc bức xạ cho Phòng khám Đa khoa Thiện Nhân", holder_kind="person",
            holder_id="051089004217", holder_name="Phạm Minh Khánh", formed_year=2019, valid_until=None)
        draft = ops.create_draft(staff, data, scan)
        results[pages] = ops.publish(reviewer, draft, seen_version=draft.version)
    return app, holder, results


def _baseline_pipeline(original_path: str):
    """The pipeline as first written, for comparison: patched into portal.copies.pdf in this process."""
    import io

    from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.sign import signers
    from pyhanko.stamp import TextStampStyle
    from pypdf import PdfReader, PdfWriter, Transformation
    from weasyprint import HTML

    from portal.copies import pdf

    def render_registering_fonts(job, sizes, pdfa=True):
        css, stamps = pdf._stamp_pages(sizes, job)
        faces = (pdf.FONTS.parent / "templates" / "copies" / "fonts.css").read_text()
        document = (job.certificate_html.replace("/*stamp-pages*/", faces + css)
                    .replace("<!--stamp-pages-->", stamps))
        return HTML(string=document, base_url=pdf.FONTS.as_uri() + "/", url_fetcher=pdf._fetcher()).write_pdf(
            pdf_variant="pdf/a-2b" if pdfa else None)

    def merge_with_pypdf(certificate, _original):
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(certificate)))
        for i, page in enumerate(PdfReader(original_path).pages):
            x0, y0 = float(page.mediabox.left), float(page.mediabox.bottom)
            writer.pages[i + 1].merge_transformed_page(page, Transformation().translate(-x0, -y0), over=False)
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()

    def stock_signer(p12_path, password, mtime):
        return signers.SimpleSigner.load_pkcs12(p12_path, passphrase=password.encode())

    def full_font_style():
        return TextStampStyle(
            stamp_text="Ký số bởi: %(signer)s\nThời gian ký: %(signed_at)s\nBản sao điện tử từ sổ gốc",
            text_box_style=TextBoxStyle(font=GlyphAccumulatorFactory(str(pdf.FONTS / "DejaVuSans.ttf")),
                                        font_size=8.5, leading=12), border_width=1, background=None)

    return {"_render": render_registering_fonts, "_merge": merge_with_pypdf, "_signer": stock_signer,
            "_stamp_style": full_font_style}


def _stages(job, runs: int, in_process: bool = False, patches: dict | None = None) -> dict:
    from portal.copies import pdf, worker

    saved = {}
    if patches:
        saved = {name: getattr(pdf, name) for name in patches}
        for name, value in patches.items():
            setattr(pdf, name, value)
    try:
        timings = {"render": [], "merge": [], "sign": [], "total": []}
        for _ in range(runs):
            produced = pdf.produce(job) if in_process else worker.run(pdf.produce, job)
            for stage, seconds in produced.timings.items():
                timings[stage].append(seconds * 1000)
            timings["total"].append(sum(produced.timings.values()) * 1000)
        return timings
    finally:
        for name, value in saved.items():
            setattr(pdf, name, value)


def _svg_qr(job):
    """The baseline's certification page: the same, with the QR code as an SVG."""
    import re
    from dataclasses import replace

    import segno

    url = re.search(r"(http\S+/verify/\w+)", job.certificate_html).group(1)
    html = re.sub(r'src="data:image/png;base64,[^"]+"', f'src="{segno.make(url, error="m").svg_data_uri(border=0)}"',
                  job.certificate_html)
    return replace(job, certificate_html=html)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "BENCHMARKS.md")
    parser.add_argument("--concurrent", type=int, default=0, help="clients at once, through gunicorn")
    parser.add_argument("--requests", type=int, default=120, help="copies asked for in all (--concurrent)")
    parser.add_argument("--database-url", help="an empty PostgreSQL database (--concurrent; default SQLite)")
    parser.add_argument("--long-term", action="store_true", help="the B-LT/B-LTA path against B-B")
    args = parser.parse_args()
    if args.long_term:
        write_section(args.out, "copies-long-term", run_long_term(args.runs))
        return
    if args.concurrent:
        from copies_served import run_concurrent

        write_section(args.out, "copies-concurrent", run_concurrent(args, _setup, _percentiles))
        return

    from portal.copies import worker
    from portal.copies.keys import ensure_signing_key
    from portal.models import CertifiedCopy
    from portal.operations import copies as ops
    from portal.storage import storage
    from portal.timeutil import utcnow

    rows, stage_rows, baseline_rows = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-copies-") as tmp:
        app, holder, results = _setup(Path(tmp))
        signing = ensure_signing_key(app.config)
        for pages, result in results.items():
            worker._reset()  # a fresh rendering process per size, for its peak memory
            worker.warm()
            ops.issue_copy(holder, result)  # first copy: loads fonts and the key
            times = []
            for _ in range(args.runs):
                start = time.perf_counter()
                ops.issue_copy(holder, result)
                times.append((time.perf_counter() - start) * 1000)
            peak = worker.run(_peak_rss_mb)
            p50, p95 = _percentiles(times)
            rows.append((pages, p50, p95, peak))
            probe = CertifiedCopy(year=2026, number=999999, verification_code="BENCHBENCHBENCH2", issued_at=utcnow(),
                                  holder_id=result.holder_id, holder_name=result.holder_name)
            with storage().local_copy(result.document.sha256) as original:
                job = ops.copy_job(probe, result, holder, signing, original)
                stages = _stages(job, args.runs)
                stage_rows.append((pages, {k: _percentiles(v) for k, v in stages.items()}))
                # Portal and baseline in this (bench) process, one after the other, for a fair comparison.
                portal_here = _stages(job, args.runs, in_process=True)
                baseline = _stages(_svg_qr(job), args.runs, in_process=True,
                                   patches=_baseline_pipeline(job.original_path))
            baseline_rows.append((pages, {k: _percentiles(v) for k, v in portal_here.items()},
                                  {k: _percentiles(v) for k, v in baseline.items()}))
            print(f"{pages} page(s): issue p50 {p50:.0f} ms, p95 {p95:.0f} ms, peak RSS {peak:.0f} MB")
        worker._reset()
    from portal.copies import pdf

    pdf._fonts.cache_clear()  # let WeasyPrint's font configuration go before the interpreter does

    lines = [f"Run {date.today().isoformat()} on {platform.machine()}, Python {platform.python_version()}, "
             f"`bench/copies.py --runs {args.runs}`. Times in ms (p50 / p95).", "",
             "**Issuing a copy, end to end** (`issue_copy`: render, merge and sign in the rendering process, "
             "store, register, audit):", "",
             "| result | copy pages | p50 | p95 | rendering process peak RSS (MB) |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for pages, p50, p95, peak in rows:
        lines.append(f"| {pages}-page | {pages + 1} | {p50:.0f} | {p95:.0f} | {peak:.0f} |")
    lines += ["", "**Where the time goes**, in the rendering process (p50 / p95, and share of the p50 total):", "",
              "| result | render (WeasyPrint) | merge (pikepdf) | sign (pyHanko) | total |",
              "| --- | ---: | ---: | ---: | ---: |"]
    for pages, s in stage_rows:
        total = sum(s[k][0] for k in ("render", "merge", "sign"))
        cells = [f"{s[k][0]:.0f} / {s[k][1]:.0f} ({100 * s[k][0] / total:.0f} %)" for k in ("render", "merge", "sign")]
        lines.append(f"| {pages}-page | {' | '.join(cells)} | {s['total'][0]:.0f} / {s['total'][1]:.0f} |")
    lines += ["", "**Against the baseline** (the pipeline as first written: fonts registered by every render, "
              "QR code as SVG, pages merged with pypdf, stock pyHanko signer parsing the key at every "
              "signature, full DejaVu Sans in the signature appearance), both in the bench process:", "",
              "| result | pipeline | render | merge | sign | total |", "| --- | --- | ---: | ---: | ---: | ---: |"]
    for pages, portal_s, base_s in baseline_rows:
        for name, s in (("portal", portal_s), ("baseline", base_s)):
            lines.append(f"| {pages}-page | {name} | " + " | ".join(
                f"{s[k][0]:.0f} / {s[k][1]:.0f}" for k in ("render", "merge", "sign", "total")) + " |")
    write_section(args.out, "copies", "\n".join(lines))


def run_long_term(runs: int) -> str:
    """A 1-page copy issued end to end as B-B (no timestamp: the baseline), B-LT and B-LTA, against
    the demo authority in its own process; the rendering process's fetches counted."""
    import socket
    import subprocess

    from portal.copies import ltv, worker
    from portal.operations import copies as ops

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    pki_url = f"http://127.0.0.1:{port}"
    figures, fetches = {}, {}
    with tempfile.TemporaryDirectory(prefix="bench-copies-lt-") as tmp:
        app, holder, results = _setup(Path(tmp), DEMO_PKI_URL=pki_url, REVOCATION_CACHE_SECONDS=3600)
        from portal.copies.keys import ensure_signing_key

        signing_dir = Path(ensure_signing_key(app.config).p12_path).parent
        server = subprocess.Popen([sys.executable, "-m", "portal.copies.demo_pki", "--keys", str(signing_dir),
                                   "--port", str(port)], cwd=ROOT, stdout=subprocess.PIPE)
        try:
            server.stdout.readline()  # it says where it listens once it does
            for name, settings in (("B-B (no timestamp, baseline)", {"TSA_URL": ""}),
                                   ("B-LT", {"TSA_URL": f"{pki_url}/tsa", "COPY_LTA": False}),
                                   ("B-LTA", {"TSA_URL": f"{pki_url}/tsa", "COPY_LTA": True})):
                app.config.update(settings)
                worker._reset()
                worker.warm()
                ops.issue_copy(holder, results[1])  # the first: fonts, key, authority, CRL
                times = []
                for _ in range(runs):
                    start = time.perf_counter()
                    ops.issue_copy(holder, results[1])
                    times.append((time.perf_counter() - start) * 1000)
                figures[name] = _percentiles(times)
                fetches[name] = worker.run(ltv.fetch_counts)
                print(f"{name}: p50 {figures[name][0]:.0f} ms, p95 {figures[name][1]:.0f} ms, fetched {fetches[name]}")
        finally:
            server.terminate()
            server.wait()
            worker._reset()
    lines = [f"Run {date.today().isoformat()} on {platform.machine()}, Python {platform.python_version()}, "
             f"`bench/copies.py --long-term --runs {runs}`: a 1-page result's copy (2 pages) issued end to end "
             "(`issue_copy`), the demo time-stamping authority and CRL in their own process on 127.0.0.1, "
             f"{runs} copies after a first one. Target (issue 17): B-LT p50 under 300 ms.", "",
             "| path | p50 (ms) | p95 (ms) | CRL fetches | authority certificate fetches |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for name, (p50, p95) in figures.items():
        lines.append(f"| {name} | {p50:.0f} | {p95:.0f} | {fetches[name]['crl']} | {fetches[name]['authority']} |")
    lines += ["", f"The fetches are counted over all {runs + 1} copies of a path in a fresh rendering process: "
              "the CRL and the authority's certificates are fetched once per validity window (the CRL's "
              "nextUpdate, at most `PORTAL_REVOCATION_CACHE_SECONDS`), only the timestamp itself per copy "
              "(two with B-LTA: the signature's and the document's)."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
