"""A local RFC 3161 timestamp authority for tests: ``openssl req``/``x509`` make a root and
a TSA certificate (critical ``timeStamping`` EKU unless asked otherwise), and a small HTTP
server on loopback answers each TimeStampReq through ``openssl ts -reply``.

The TSA config has no ``certs =`` line: OpenSSL would write that set unsorted, which
rfc3161-client rejects. The reply carries the TSA's certificate (``ess_cert_id_chain``
off, ``certs`` requested by the client).
"""

from __future__ import annotations

import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CONFIG = """
[ tsa ]
default_tsa = tsa_config

[ tsa_config ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
other_policies = 1.3.6.1.4.1.99999.2
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


EXTENSIONS = "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"


def _run(*args: str | Path, cwd: Path) -> None:
    subprocess.run([str(a) for a in args], cwd=cwd, check=True, capture_output=True)


class LocalTSA:
    """A root CA, a TSA certificate it issued, and an HTTP endpoint stamping with them."""

    def __init__(self, name: str = "Test TSA") -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="archiver-tsa-"))
        self.name = name
        d = self.dir
        _run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", "root.key", "-out", "root.pem", "-days", "3650",
             "-subj", f"/CN={name} Root/O=archiver tests", cwd=d)  # fmt: skip
        _run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", f"/CN={name}/O=archiver tests",
             cwd=d)  # fmt: skip
        (d / "tsa.ext").write_text(EXTENSIONS + "extendedKeyUsage=critical,timeStamping\n")
        _run("openssl", "x509", "-req", "-in", "tsa.csr", "-CA", "root.pem", "-CAkey", "root.key",
             "-CAcreateserial", "-out", "tsa.pem", "-days", "3650", "-extfile", "tsa.ext",
             cwd=d)  # fmt: skip
        (d / "serial").write_text("01\n")
        (d / "tsa.cnf").write_text(CONFIG.format(dir=d))
        self.requests = 0
        self.down = False
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/tsr"

    @property
    def root_pem(self) -> bytes:
        return (self.dir / "root.pem").read_bytes()

    def twin_without_eku(self) -> bytes:
        """A certificate for the TSA's key with its serial and names but no EKU (PEM): what a
        chain swapped for a non-timestamping certificate would hold."""
        d = self.dir
        serial = subprocess.run(["openssl", "x509", "-in", "tsa.pem", "-noout", "-serial"],
                                cwd=d, check=True, capture_output=True, text=True)  # fmt: skip
        (d / "twin.ext").write_text(EXTENSIONS)
        _run("openssl", "x509", "-req", "-in", "tsa.csr", "-CA", "root.pem", "-CAkey", "root.key",
             "-set_serial", "0x" + serial.stdout.strip().split("=", 1)[1], "-out", "twin.pem",
             "-days", "3650", "-extfile", "twin.ext", cwd=d)  # fmt: skip
        return (d / "twin.pem").read_bytes()

    def reply(self, query: bytes) -> bytes:
        with self._lock, tempfile.TemporaryDirectory() as work:
            self.requests += 1
            request, response = Path(work) / "q.tsq", Path(work) / "r.tsr"
            request.write_bytes(query)
            _run("openssl", "ts", "-reply", "-config", self.dir / "tsa.cnf", "-queryfile",
                 request, "-out", response, cwd=self.dir)  # fmt: skip
            return response.read_bytes()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                query = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if tsa.down:
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = tsa.reply(query)
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
