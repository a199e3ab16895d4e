"""A real Dovecot IMAP server for the tests, in a temporary folder on loopback.

`DovecotServer(folder).start()` renders `dovecot.conf.in` with two free ports
(plain/STARTTLS and implicit TLS), a self-signed certificate, and a static
passdb (any user name, one password; XOAUTH2 checks a fixed token), then runs
`dovecot -F` until `stop()`. `restart()` keeps the ports and the Maildirs.

Dovecot refuses to run its login processes as root: as root the package's
unprivileged `dovenull` and `dovecot` users run them and own the Maildirs;
as an ordinary user everything runs as that user.

Run by hand: `python -m tests.dovecot.server` starts one and prints how to
reach it until Ctrl-C.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PASSWORD = "panel-secret"
TOKEN = "ya29.test-access-token"


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or (("/usr/sbin/dovecot") if Path("/usr/sbin/dovecot").exists() else None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def self_signed_certificate(cert: Path, key: Path, host: str = "localhost") -> None:
    """A certificate for `host` and 127.0.0.1: `cryptography` if installed, else the openssl CLI."""
    try:
        _with_cryptography(cert, key, host)
    except ImportError:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", f"/CN={host}", "-addext", f"subjectAltName=DNS:{host},IP:127.0.0.1",
             "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True,
        )


def _with_cryptography(cert_path: Path, key_path: Path, host: str) -> None:
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName(host), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))


class DovecotServer:
    host = "127.0.0.1"
    password = PASSWORD
    token = TOKEN

    def __init__(self, folder: Path | None = None):
        # Not under pytest's tmp_path: that is mode 0700 and the unprivileged
        # users Dovecot switches to could not reach their Maildirs.
        self.base = Path(folder or tempfile.mkdtemp(prefix="mailbot-dovecot-"))
        self.port = free_port()
        self.tls_port = free_port()
        self.config = self.base / "dovecot.conf"
        self.cert = self.base / "cert.pem"
        self._process: subprocess.Popen[bytes] | None = None
        self._prepared = False

    # ---- lifecycle

    def start(self, timeout: float = 15.0) -> DovecotServer:
        binary = dovecot_binary()
        if binary is None:
            raise RuntimeError("dovecot is not installed (apt-get install dovecot-imapd)")
        if not self._prepared:
            self._prepare()
        self._process = subprocess.Popen([binary, "-F", "-c", str(self.config)],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while not (listening(self.port) and listening(self.tls_port)):
            if self._process.poll() is not None:
                err = self._process.stderr.read().decode(errors="replace") if self._process.stderr else ""
                raise RuntimeError(f"dovecot exited: {err.strip()}\n{self.log()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"dovecot did not listen within {timeout}s\n{self.log()}")
            time.sleep(0.05)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr:
            process.stderr.close()
        deadline = time.monotonic() + timeout
        while (listening(self.port) or listening(self.tls_port)) and time.monotonic() < deadline:
            time.sleep(0.05)

    def restart(self) -> None:
        self.stop()
        self.start()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> DovecotServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.remove()

    # ---- helpers for tests

    def log(self) -> str:
        path = self.base / "dovecot.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def doveadm(self, *args: str) -> str:
        doveadm = shutil.which("doveadm") or "/usr/bin/doveadm"
        done = subprocess.run([doveadm, "-c", str(self.config), *args], capture_output=True, text=True,
                              check=False)
        if done.returncode != 0:
            raise RuntimeError(f"doveadm {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    # ---- setup

    def _prepare(self) -> None:
        base = self.base
        for sub in ("run", "state", "mail"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        base.chmod(0o755)
        self_signed_certificate(self.cert, base / "key.pem")
        if os.geteuid() == 0:
            login_user, internal_user, internal_group = "dovenull", "dovecot", "dovecot"
            mail_user, mail_group = "dovecot", "dovecot"
            uid, gid = pwd.getpwnam(mail_user).pw_uid, grp.getgrnam(mail_group).gr_gid
            os.chown(base / "mail", uid, gid)
            (base / "key.pem").chmod(0o600)
        else:
            me = pwd.getpwuid(os.geteuid()).pw_name
            group = grp.getgrgid(os.getegid()).gr_name
            login_user = internal_user = mail_user = me
            internal_group = mail_group = group
        template = (HERE / "dovecot.conf.in").read_text()
        self.config.write_text(template.format(
            base=base, port=self.port, tls_port=self.tls_port, password=PASSWORD, token=TOKEN,
            login_user=login_user, internal_user=internal_user, internal_group=internal_group,
            mail_user=mail_user, mail_group=mail_group,
        ))
        self._prepared = True


if __name__ == "__main__":
    server = DovecotServer().start()
    print(f"dovecot on 127.0.0.1:{server.port} (STARTTLS) and :{server.tls_port} (TLS); any user, "
          f"password {PASSWORD!r}, XOAUTH2 token {TOKEN!r}; config {server.config}. Ctrl-C stops it.")
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        server.remove()
