"""Verifying a certified copy: open to anyone, rate-limited, every look audited."""

from flask import Blueprint, abort, current_app, redirect, render_template, url_for

from ..copies import answers, register
from ..copies.pdf import CopyFailed
from ..extensions import limiter
from ..forms.copies import VerifyCodeForm, VerifyFileForm
from .gate import UPLOAD, takes_body

bp = Blueprint("verify", __name__)


def _limit():
    return current_app.config["VERIFY_RATE_LIMIT"]


# One budget per address for the page and the API alike.
verify_limit = limiter.shared_limit(_limit, scope="verify")


@bp.route("/verify", methods=["GET", "POST"])
@limiter.limit(_limit, methods=["POST"])
def start():
    form = VerifyCodeForm()
    if form.validate_on_submit():
        return redirect(url_for("verify.copy", code=form.code.data.strip().upper()))
    return render_template("verify/start.html", form=form)


@bp.route("/verify/<code>", methods=["GET", "POST"])
@verify_limit
@takes_body(UPLOAD)  # anyone may upload a copy to check it
def copy(code: str):
    found = register.find_copy(code)
    form = VerifyFileForm()
    verdict, problem = None, None
    if found is not None and form.validate_on_submit():
        verdict, problem = _check_upload(found, form)
    elif found is None or not form.is_submitted():
        register.record_verification(found, code)
        if found is not None:
            verdict = answers.verify_stored(found)
    else:
        problem = next(iter(form.file.errors), None)
    if found is None:
        return render_template("verify/not_found.html", code=code), 404
    return render_template("verify/copy.html", facts=register.public_facts(found), form=form, verdict=verdict,
                           problem=problem)


def _check_upload(found, form):
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    data = form.file.data.stream.read(limit + 1)
    if len(data) > limit:
        return None, f"Tệp lớn hơn {limit // (1024 * 1024)} MB nên không thể là bản sao do Sở cấp."
    try:
        return answers.verify_upload(found, data), None
    except CopyFailed as err:
        return None, str(err)


def api_facts(code: str):
    """For the JSON API: the register's facts and the three answers about its stored file, with
    the look recorded."""
    found = register.find_copy(code)
    register.record_verification(found, code)
    if found is None:
        abort(404)
    return {**register.public_facts(found), **answers.verify_stored(found).as_dict()}
