"""Batch import: reading manifests (`manifest`), checking rows (`rows`), unpacking uploaded ZIPs
(`unpack`). The import itself is an operation: `portal.operations.imports`."""

IMPORT_ENDPOINT = "admin.new_import"


def allow_large_import_bodies() -> None:
    """A scanning team's ZIP is far over the single-upload limit: the import page alone accepts
    up to PORTAL_IMPORT_MAX_ZIP_MB. Runs before CSRF protection reads the body."""
    from flask import current_app, request  # not above: the scan reader's processes import this package

    if request.endpoint == IMPORT_ENDPOINT and request.method == "POST":
        request.max_content_length = current_app.config["IMPORT_MAX_ZIP_MB"] * 1024 * 1024
