"""Configuration from the environment, with an embedded default for everything (12-factor)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def _secret_key(key_file: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in `key_file`."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return key_file.read_text().strip()


def database_url(raw: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever spelling the URL has."""
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix):]
    return raw


def load(instance_path: Path) -> dict:
    env = os.environ
    data_dir = Path(env.get("PORTAL_DATA_DIR") or instance_path / "data").resolve()
    max_upload_mb = int(env.get("PORTAL_MAX_UPLOAD_MB", "50"))
    # Where the generated secret key is kept when SECRET_KEY is not set (`restore` puts it back there).
    secret_key_file = Path(env.get("PORTAL_SECRET_KEY_FILE") or instance_path / "secret_key").resolve()
    max_form_bytes = int(env.get("PORTAL_MAX_FORM_KB", "64")) * 1024
    return {
        "SECRET_KEY": _secret_key(secret_key_file),
        "SECRET_KEY_FILE": str(secret_key_file),
        "SQLALCHEMY_DATABASE_URI": database_url(
            env.get("DATABASE_URL") or f"sqlite:///{instance_path / 'portal.db'}"
        ),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "PORTAL_DATA_DIR": str(data_dir),
        "MAX_UPLOAD_BYTES": max_upload_mb * 1024 * 1024,
        # Largest body of a form without a file (a login takes a few hundred bytes); the pages
        # that take a file declare their own limit (portal/views/gate.py), this is everyone else's.
        "MAX_FORM_BYTES": max_form_bytes,
        "MAX_CONTENT_LENGTH": max_form_bytes,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env.get("PORTAL_SECURE_COOKIES", "0") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": env.get("PORTAL_SECURE_COOKIES", "0") == "1",
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        # memory:// counts in each process; several processes or nodes share counts through Redis
        # (redis://host:6379/0). A Redis that stops answering within half a second is left for each
        # process's own memory until it is back: the limits loosen for a while, logins go on.
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_STORAGE_OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}
        if env.get("RATELIMIT_STORAGE_URI", "").startswith(("redis://", "rediss://")) else {},
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_RATE_LIMIT": env.get("PORTAL_LOGIN_RATE_LIMIT", "10 per minute"),
        # A session ends after this long without a request (staff, holders), and this long after login in any case.
        "SESSION_IDLE_MINUTES_STAFF": int(env.get("PORTAL_SESSION_IDLE_MINUTES_STAFF", "30")),
        "SESSION_IDLE_MINUTES_HOLDER": int(env.get("PORTAL_SESSION_IDLE_MINUTES_HOLDER", "60")),
        "SESSION_MAX_HOURS": int(env.get("PORTAL_SESSION_MAX_HOURS", "12")),
        "PUBLIC_LOOKUP_RATE_LIMIT": env.get("PORTAL_LOOKUP_RATE_LIMIT", "10 per minute; 100 per day"),
        # Number of reverse proxies in front of the app whose X-Forwarded-For is trusted.
        "PROXY_HOPS": int(env.get("PORTAL_PROXY_HOPS", "0")),
        # Identifier formats, configurable because the national rules move.
        "UNIT_CODE_PATTERN": env.get("PORTAL_UNIT_CODE_PATTERN", r"\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}"),
        "PROCEDURE_CODE_PATTERN": env.get("PORTAL_PROCEDURE_CODE_PATTERN", r"\d\.\d{6}"),
        "DOCUMENT_NUMBER_PATTERN": env.get(
            "PORTAL_DOCUMENT_NUMBER_PATTERN", r"\d{1,6}[A-Z]?(/\d{4})?/[A-ZĐ0-9][A-ZĐ0-9.&-]*"
        ),
        "TIMEZONE": env.get("PORTAL_TIMEZONE", "Asia/Ho_Chi_Minh"),
        "DEPARTMENT_NAME": env.get("PORTAL_DEPARTMENT_NAME", "Sở Khoa học và Công nghệ tỉnh Quảng Ngãi"),
        "PROVINCE_NAME": env.get("PORTAL_PROVINCE_NAME", "Quảng Ngãi"),
        "PER_PAGE": 25,
        # The address printed in certified copies' QR codes. Never taken from the request: a
        # Host header must not be able to send verifiers of a signed copy somewhere else.
        "BASE_URL": env.get("PORTAL_BASE_URL", f"http://127.0.0.1:{env.get('PORT', '5000')}").rstrip("/"),
        # The department's signing key (PKCS#12) and the roots verifiers trust; a demo pair is
        # generated under the data directory when these are not set (portal/copies/keys.py).
        "SIGNING_P12": env.get("PORTAL_SIGNING_P12", ""),
        "SIGNING_P12_PASSWORD": env.get("PORTAL_SIGNING_P12_PASSWORD", ""),
        "TRUST_ROOTS": env.get("PORTAL_TRUST_ROOTS", ""),
        # Copies that verify for decades (portal/copies/ltv.py): an RFC 3161 time-stamping
        # authority (with HTTP Basic credentials if it wants them); with it every copy carries a
        # signature timestamp and its validation data (PAdES B-LT), and with PORTAL_COPY_LTA=1 a
        # document timestamp too (B-LTA). The authority or a CRL out of reach refuses the copy,
        # unless PORTAL_TSA_FALLBACK=unstamped, which signs without and says so on the copy's page.
        "TSA_URL": env.get("PORTAL_TSA_URL", ""),
        "TSA_USERNAME": env.get("PORTAL_TSA_USERNAME", ""),
        "TSA_PASSWORD": env.get("PORTAL_TSA_PASSWORD", ""),
        "TSA_TIMEOUT": float(env.get("PORTAL_TSA_TIMEOUT", "10")),
        "TSA_FALLBACK": env.get("PORTAL_TSA_FALLBACK", "refuse"),
        "COPY_LTA": env.get("PORTAL_COPY_LTA", "0") == "1",
        # Fetched CRLs and the authority's certificates are reused until the CRL's nextUpdate, at
        # most this long; `copies-refresh` renews document timestamps this many days before expiry.
        "REVOCATION_CACHE_SECONDS": int(env.get("PORTAL_REVOCATION_CACHE_SECONDS", "3600")),
        "COPY_REFRESH_DAYS": int(env.get("PORTAL_COPY_REFRESH_DAYS", "180")),
        # Where the demo CA's CRL is published, written into the demo certificates when they are
        # made (`python -m portal.copies.demo_pki` serves it, with a demo TSA at /tsa).
        "DEMO_PKI_URL": env.get("PORTAL_DEMO_PKI_URL", "http://127.0.0.1:5099"),
        # Days a reviewer may download again the hand-over slips (claim codes in clear) of a
        # published batch; then the PDF is deleted (portal/operations/slips.py).
        "HANDOVER_SLIP_DAYS": int(env.get("PORTAL_HANDOVER_SLIP_DAYS", "7")),
        # Processes that render and sign copies and check uploaded PDFs, per web process.
        "COPY_PROCESSES": int(env.get("PORTAL_COPY_PROCESSES", "1")),
        # Unit price of digitizing one page, in đồng, for the yearly report's cost.
        "PRICE_PER_PAGE": int(env.get("PORTAL_PRICE_PER_PAGE", "2000")),
        # Machine clients (a unit's one-stop-shop system): a bearer token's life, and calls per client.
        "API_TOKEN_SECONDS": int(env.get("PORTAL_API_TOKEN_SECONDS", "900")),
        "API_CLIENT_RATE_LIMIT": env.get("PORTAL_API_CLIENT_RATE_LIMIT", "600 per minute"),
        "VERIFY_RATE_LIMIT": env.get("PORTAL_VERIFY_RATE_LIMIT", "30 per minute; 500 per day"),
        # Openings of share links (/share/<token>) per address: a bank opens one a few times.
        "SHARE_RATE_LIMIT": env.get("PORTAL_SHARE_RATE_LIMIT", "20 per minute; 200 per day"),
        # Seconds between a web process's checks of the index queue (0: no background thread).
        "SEARCH_INDEXER_INTERVAL": float(env.get("PORTAL_INDEXER_INTERVAL", "2")),
        # Seconds a web process waits between looks at the web import jobs and OCR (0: none).
        "JOBS_INTERVAL": float(env.get("PORTAL_JOBS_INTERVAL", "3")),
        # Web imports: a ZIP is refused when it holds more, or unpacks to more, than this.
        "IMPORT_MAX_FILES": int(env.get("PORTAL_IMPORT_MAX_FILES", "5000")),
        "IMPORT_MAX_UNPACKED_MB": int(env.get("PORTAL_IMPORT_MAX_UNPACKED_MB", "4096")),
        "IMPORT_MAX_ZIP_MB": int(env.get("PORTAL_IMPORT_MAX_ZIP_MB", "1024")),
        # "Dữ liệu của tôi": a holder's export is built while they wait up to this many results and MB.
        "MYDATA_MAX_RESULTS": int(env.get("PORTAL_MYDATA_MAX_RESULTS", "200")),
        "MYDATA_MAX_MB": int(env.get("PORTAL_MYDATA_MAX_MB", "200")),
        # Folder of the pg_dump / pg_restore matching the server's major version (e.g.
        # /usr/lib/postgresql/15/bin); empty: the ones on PATH. Used by `backup` and `restore`.
        "PG_BIN_DIR": env.get("PORTAL_PG_BIN_DIR", ""),
        # Days a failed web import keeps its uploaded files (to look into) before they are removed;
        # a finished one's are removed at once (its scans are in the store).
        "IMPORT_KEEP_FAILED_DAYS": float(env.get("PORTAL_IMPORT_KEEP_FAILED_DAYS", "7")),
        # /healthz reports low space (status "warning") when the data directory has less free.
        "MIN_FREE_MB": int(env.get("PORTAL_MIN_FREE_MB", "1024")),
        # Log-in through the national identity (VNeID via the National Public Service Portal's
        # OpenID Connect): offered when the issuer and the client id are set (portal/national_identity.py).
        "OIDC_ISSUER": env.get("PORTAL_OIDC_ISSUER", "").rstrip("/"),
        "OIDC_CLIENT_ID": env.get("PORTAL_OIDC_CLIENT_ID", ""),
        "OIDC_CLIENT_SECRET": env.get("PORTAL_OIDC_CLIENT_SECRET", ""),
        "OIDC_SCOPES": env.get("PORTAL_OIDC_SCOPES", "openid"),
        # The claims the national portal names them by (configurable: its specification is not published).
        "OIDC_ID_CLAIM": env.get("PORTAL_OIDC_ID_CLAIM", "SoDinhDanh"),
        "OIDC_NAME_CLAIM": env.get("PORTAL_OIDC_NAME_CLAIM", "HoVaTen"),
        "OIDC_ORG_CLAIM": env.get("PORTAL_OIDC_ORG_CLAIM", "MaSoThue"),
        "OIDC_LEVEL_CLAIM": env.get("PORTAL_OIDC_LEVEL_CLAIM", "CapDoXacThuc"),
        # The assurance level a session opened through the provider needs to issue a certified copy.
        "OIDC_COPY_LEVEL": int(env.get("PORTAL_OIDC_COPY_LEVEL", "2")),
        # Seconds the portal waits for the provider (discovery, keys, token) before it gives up.
        "OIDC_TIMEOUT": float(env.get("PORTAL_OIDC_TIMEOUT", "8")),
        # The national data store (portal/national_store.py): every state of a published result is
        # sent there when the address is set; the token, if any, goes as a bearer token.
        "NATIONAL_STORE_URL": env.get("PORTAL_NATIONAL_STORE_URL", ""),
        "NATIONAL_STORE_TOKEN": env.get("PORTAL_NATIONAL_STORE_TOKEN", ""),
        "NATIONAL_STORE_TIMEOUT": float(env.get("PORTAL_NATIONAL_STORE_TIMEOUT", "10")),
        # Days the signed link to a result's file, sent with each message, stays valid.
        "NATIONAL_STORE_LINK_DAYS": float(env.get("PORTAL_NATIONAL_STORE_LINK_DAYS", "7")),
        # Retries: the first after about this many seconds, doubling up to the cap (with jitter).
        "NATIONAL_STORE_RETRY_SECONDS": float(env.get("PORTAL_NATIONAL_STORE_RETRY_SECONDS", "10")),
        "NATIONAL_STORE_RETRY_MAX_SECONDS": float(env.get("PORTAL_NATIONAL_STORE_RETRY_MAX_SECONDS", "3600")),
        # Background work (portal/jobs.py): 1, the default, the web process runs imports, OCR and the
        # national sync itself (one command, `make run`); 0, it runs none and `flask --app wsgi worker`
        # processes, on any node, take the work. A worker holds a job for a lease it renews as it goes;
        # another worker takes the job over only once the lease has run out (its worker died).
        "INPROCESS_JOBS": env.get("PORTAL_INPROCESS_JOBS", "1") == "1",
        "JOB_LEASE_SECONDS": float(env.get("PORTAL_JOB_LEASE_SECONDS", "120")),
        # Object storage (PORTAL_STORAGE=s3)
        # Where files are kept (portal/storage/): "local" (under the data directory) or "s3" (an
        # S3-compatible bucket, for nodes that share no directory). Credentials: AWS_ACCESS_KEY_ID and
        # AWS_SECRET_ACCESS_KEY (or an instance role), as boto3 reads them.
        "STORAGE": env.get("PORTAL_STORAGE", "local"),
        "S3_BUCKET": env.get("PORTAL_S3_BUCKET", ""),
        "S3_ENDPOINT_URL": env.get("PORTAL_S3_ENDPOINT_URL", ""),  # empty: AWS itself
        "S3_REGION": env.get("PORTAL_S3_REGION", "us-east-1"),
        "S3_PREFIX": env.get("PORTAL_S3_PREFIX", ""),  # keys start with it (one bucket, several portals)
        # Downloads go to the client through the app (checked, audited) unless this is 1: then the
        # client is sent to a presigned address of the object, valid PORTAL_S3_PRESIGN_SECONDS.
        "S3_PRESIGNED_DOWNLOADS": env.get("PORTAL_S3_PRESIGNED_DOWNLOADS", "0") == "1",
        "S3_PRESIGN_SECONDS": int(env.get("PORTAL_S3_PRESIGN_SECONDS", "60")),
        # Search backend: "whoosh" (a local index per node, the embedded default) or "postgresql" (the
        # search table in the database, for several nodes; needs DATABASE_URL on PostgreSQL). Matches of
        # typed words ranked by relevance when there are at most this many, else shown newest first.
        "SEARCH_BACKEND": env.get("PORTAL_SEARCH_BACKEND", "whoosh").strip().lower(),
        "SEARCH_PG_CANDIDATES": int(env.get("PORTAL_SEARCH_PG_CANDIDATES", "1000")),
    }
