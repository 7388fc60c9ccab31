"""The demo PKI's public services over HTTP: an RFC 3161 time-stamping authority and the CA's CRL.

For development and the test suite only: a real department points `PORTAL_TSA_URL` at a licensed
time-stamping service and its certificates at its CA's published CRLs (README, "Certified copies").

    python -m portal.copies.demo_pki --keys DIR [--host 127.0.0.1] [--port 5099] [--delay SECONDS]

`POST /tsa` answers a time-stamp request (`application/timestamp-query`) signed with the demo TSA's
key (pyHanko's DummyTimeStamper does the RFC 3161 part); `GET /demo-ca.crl` answers the demo CA's
CRL, signed afresh on each request from the list `keys.revoke_demo_certificate` keeps. `--delay`
makes every answer late, as a slow authority would be.
"""

from __future__ import annotations

import argparse
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from . import keys

MAX_REQUEST_BYTES = 16_384  # a time-stamp request is a hash and a few fields


def _timestamper(folder: Path):
    """pyHanko's DummyTimeStamper with the key parsed once: its own parses the key for every
    stamp (~40 ms with RSA-2048), which a real authority's hardware does not."""
    from asn1crypto import cms, core
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from cryptography.hazmat.primitives.serialization import pkcs12
    from pyhanko.sign import general
    from pyhanko.sign.timestamps import DummyTimeStamper
    from pyhanko_certvalidator.util import get_pyca_cryptography_hash

    key, cert, chain = pkcs12.load_key_and_certificates((folder / keys.DEMO_TSA).read_bytes(),
                                                        keys.DEMO_PASSWORD.encode())
    der = serialization.Encoding.DER

    class KeyLoadedOnce(DummyTimeStamper):
        def _sign_tst_info(self, tst_info_data, md_algorithm, dt):
            digest = hashes.Hash(get_pyca_cryptography_hash(md_algorithm))
            digest.update(tst_info_data)
            signed_attrs = cms.CMSAttributes([
                general.simple_cms_attribute("content_type", "tst_info"),
                general.simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),
                general.simple_cms_attribute("signing_certificate", general.as_signing_certificate(self.tsa_cert)),
                general.simple_cms_attribute("message_digest", digest.finalize()),
            ])
            signature = key.sign(signed_attrs.dump(), PKCS1v15(), get_pyca_cryptography_hash(md_algorithm.upper()))
            return signature, signed_attrs

    return KeyLoadedOnce(
        tsa_cert=asn1_x509.Certificate.load(cert.public_bytes(der)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(key.private_bytes(der, serialization.PrivateFormat.PKCS8,
                                                                serialization.NoEncryption())),
        certs_to_embed=[asn1_x509.Certificate.load(c.public_bytes(der)) for c in chain])


def make_server(folder: Path, host: str = "127.0.0.1", port: int = 5099, delay: float = 0.0) -> ThreadingHTTPServer:
    from asn1crypto import tsp

    timestamper = _timestamper(folder)

    class Handler(BaseHTTPRequestHandler):
        # Headers and body go out in two writes: with Nagle's algorithm the body waited for the
        # client's delayed ACK, 40 ms a request.
        disable_nagle_algorithm = True

        def _answer(self, status: int, content_type: str, body: bytes) -> None:
            if delay:
                time.sleep(delay)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path.split("?")[0] == f"/{keys.DEMO_CRL}":
                self._answer(200, "application/pkix-crl", keys.demo_crl(folder))
            else:
                self._answer(404, "text/plain", b"not found")

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            if self.path != "/tsa" or not 0 < length <= MAX_REQUEST_BYTES:
                self._answer(404 if self.path != "/tsa" else 400, "text/plain", b"no")
                return
            try:
                request = tsp.TimeStampReq.load(self.rfile.read(length))
                answer = timestamper.request_tsa_response(request).dump()
            except Exception:  # noqa: BLE001 - a malformed request gets a 400, the server goes on
                self._answer(400, "text/plain", b"malformed time-stamp request")
                return
            self._answer(200, "application/timestamp-reply", answer)

        def log_message(self, format, *args):  # quiet: the suite starts it often
            pass

    return ThreadingHTTPServer((host, port), Handler)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", required=True, type=Path, help="the demo PKI's folder (data dir's signing/)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5099)
    parser.add_argument("--delay", type=float, default=0.0, help="answer every request this many seconds late")
    parser.add_argument("--port-file", type=Path, help="write the port taken here (for --port 0)")
    args = parser.parse_args(argv)
    if not (args.keys / keys.DEMO_TSA).is_file():
        parser.error(f"no demo TSA key in {args.keys}: it is made with a new demo key set (flask signing-key)")
    try:
        server = make_server(args.keys, args.host, args.port, args.delay)
    except OSError as err:  # the port taken, say: a sentence, not a traceback
        parser.exit(1, f"cannot listen on {args.host}:{args.port}: {err.strerror}\n")
    if args.port_file:
        temp = args.port_file.with_suffix(".tmp")
        temp.write_text(str(server.server_port))
        temp.replace(args.port_file)
    print(f"demo TSA at http://{args.host}:{server.server_port}/tsa, CRL at "
          f"http://{args.host}:{server.server_port}/{keys.DEMO_CRL}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
