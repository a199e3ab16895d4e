"""Dovecot as the residents' provider: IMAP and LMTP on loopback, Sieve, and SASL for Postfix.

Built like `tests.dovecot.server.DovecotServer` (own folder, own ports, `dovecot -F`),
with a passwd-file of known users instead of "anyone logs in": LMTP answers
`550 5.1.1` for an address nobody has, which is what makes Postfix bounce.
"""

from __future__ import annotations

import base64
import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from tests.dovecot.server import dovecot_binary, free_port, listening, self_signed_certificate

HERE = Path(__file__).resolve().parent


class Mailstore:
    def __init__(self, base: Path, *, municipality: str, residents: str, smtp_port: int):
        self.base = base
        self.municipality = municipality
        self.residents = residents
        self.smtp_port = smtp_port  # Postfix's port 25 here, for Sieve's vacation replies
        self.imap_port = free_port()
        self.lmtp_port = free_port()
        self.sieve_port = free_port()  # ManageSieve: how a webmail's "out of office" page stores the script
        self.config = base / "dovecot.conf"
        self.cert = base / "cert.pem"
        self.key = base / "key.pem"
        self.users: dict[str, str] = {}
        self._process: subprocess.Popen[bytes] | None = None
        for sub in ("run", "state", "mail"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        base.chmod(0o755)
        self_signed_certificate(self.cert, self.key)
        self.key.chmod(0o644)  # Postfix (smtpd runs as postfix) reads the same key
        if os.geteuid() == 0:
            self.ids = ("dovenull", "dovecot", "dovecot", "dovecot", "dovecot")
        else:
            me, group = pwd.getpwuid(os.geteuid()).pw_name, grp.getgrgid(os.getegid()).gr_name
            self.ids = (me, me, group, me, group)
        self.mail_user, self.mail_group = self.ids[3], self.ids[4]
        shutil.chown(base / "mail", self.mail_user, self.mail_group)

    @property
    def sasl_socket(self) -> Path:
        return self.base / "run" / "auth-postfix"

    def add_user(self, address: str, password: str) -> None:
        self.users[address.lower()] = password
        (self.base / "users").write_text("".join(f"{a}:{p}::::::\n" for a, p in self.users.items()))

    def home(self, address: str) -> Path:
        local, _, domain = address.lower().partition("@")
        return self.base / "mail" / domain / local

    def maildir(self, address: str) -> Path:
        return self.home(address) / "Maildir"

    def set_sieve(self, address: str, password: str, name: str, script: str) -> None:
        """Store and activate a Sieve script over ManageSieve (RFC 5804), as a webmail's settings page does."""
        with socket.create_connection(("127.0.0.1", self.sieve_port), timeout=10) as sock:
            f = sock.makefile("rwb")

            def answer() -> list[bytes]:
                lines = []
                while True:
                    line = f.readline()
                    if not line:
                        raise RuntimeError(f"ManageSieve closed: {lines}")
                    lines.append(line)
                    if line.startswith((b"OK", b"NO", b"BYE")):
                        if not line.startswith(b"OK"):
                            raise RuntimeError(f"ManageSieve: {b''.join(lines).decode(errors='replace')}")
                        return lines

            def say(command: bytes) -> None:
                f.write(command + b"\r\n")
                f.flush()
                answer()

            answer()  # the greeting with the capabilities
            login = base64.b64encode(b"\0" + address.encode() + b"\0" + password.encode())
            say(b'AUTHENTICATE "PLAIN" "' + login + b'"')
            data = script.encode()
            say(b'PUTSCRIPT "' + name.encode() + b'" {' + str(len(data)).encode() + b"+}\r\n" + data)
            say(b'SETACTIVE "' + name.encode() + b'"')
            say(b"LOGOUT")

    def messages(self, address: str) -> list[tuple[Path, EmailMessage]]:
        """Every message in the INBOX (new and cur), oldest first."""
        folder = self.maildir(address)
        files = [f for sub in ("new", "cur") for f in (folder / sub).glob("*")] if folder.exists() else []
        out = []
        for f in sorted(files, key=lambda f: f.stat().st_mtime_ns):
            msg = message_from_bytes(f.read_bytes(), policy=policy.default)
            assert isinstance(msg, EmailMessage)
            out.append((f, msg))
        return out

    def start(self, timeout: float = 15.0) -> Mailstore:
        binary = dovecot_binary()
        if binary is None:
            raise RuntimeError("dovecot is not installed (apt-get install dovecot-imapd dovecot-lmtpd dovecot-sieve)")
        login, internal, internal_group, mail_user, mail_group = self.ids
        self.config.write_text((HERE / "dovecot.conf.in").read_text().format(
            base=self.base, imap_port=self.imap_port, lmtp_port=self.lmtp_port, smtp_port=self.smtp_port,
            sieve_port=self.sieve_port,
            municipality=self.municipality, residents=self.residents, login_user=login, internal_user=internal,
            internal_group=internal_group, mail_user=mail_user, mail_group=mail_group))
        self._process = subprocess.Popen([binary, "-F", "-c", str(self.config)], stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while not (listening(self.imap_port) and listening(self.lmtp_port) and listening(self.sieve_port)
                   and self.sasl_socket.exists()):
            if self._process.poll() is not None:
                err = self._process.stderr.read().decode(errors="replace") if self._process.stderr else ""
                raise RuntimeError(f"dovecot exited: {err.strip()}\n{self.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"dovecot did not listen within {timeout}s\n{self.log()}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr:
            process.stderr.close()

    def log(self) -> str:
        path = self.base / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""
