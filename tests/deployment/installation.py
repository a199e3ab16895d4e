"""One installation as a municipality runs it, built from docs/operations.md, for the deployment tests.

- Postfix (Debian's package, an instance of the test's own) is the MTA for the
  municipality `kommune.test` and MX of the reply domain `svar.kommune.test`;
  its `main.cf` holds the guide's block, its transport table the guide's line.
- Dovecot holds the residents' mailboxes at `innbygger.test` (IMAP, LMTP,
  Sieve) and checks the SASL logins Postfix takes on its submission port.
- PostgreSQL (a schema of the test's own) is the bot's database.
- The bot runs as the systemd unit's `ExecStart` says, as a subprocess.
- Residents read their Maildir and reply with s-nail, which sends through the
  submission port with STARTTLS and AUTH, as a mail client does.

Everything lives under one folder made for the test (mode 0755: Postfix and
Dovecot switch to their own users) and is stopped and removed afterwards.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from tests.conftest import PG_URL, ROOT
from tests.deployment import recipe
from tests.deployment.dovecot import Mailstore
from tests.deployment.postfix import PostfixInstance
from tests.dovecot.server import free_port, listening

MUNICIPALITY = "kommune.test"
REPLY_DOMAIN = "svar.kommune.test"
RESIDENTS = "innbygger.test"
PANEL_ADDRESS = f"innbyggerpanel@{MUNICIPALITY}"
PANEL_PASSWORD = "panel-smtp-secret"
RESIDENT_PASSWORD = "resident-secret"
NAMES = {recipe.DOC_REPLY_DOMAIN: REPLY_DOMAIN, recipe.DOC_MUNICIPALITY: MUNICIPALITY}
BIN = Path(sys.executable).parent
S_NAIL = shutil.which("s-nail") or "/usr/bin/s-nail"


def wait_until(what: str, check: Callable[[], Any], timeout: float, every: float = 0.3) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


class Installation:
    def __init__(self, root: Path, *, imap_variant: bool = False):
        self.root = root
        self.imap_variant = imap_variant
        self.panel = root / "panel"
        self.runtime = root / "run-mailbot"  # the unit's RuntimeDirectory, /run/mailbot
        self.web_port = free_port()
        smtp_port = free_port()
        self.mailstore = Mailstore(root / "dovecot", municipality=MUNICIPALITY, residents=RESIDENTS,
                                   smtp_port=smtp_port)
        self.mailstore.add_user(PANEL_ADDRESS, PANEL_PASSWORD)
        self.schema = "deploy_" + uuid.uuid4().hex[:10]
        self.bot: subprocess.Popen[bytes] | None = None
        self._engine: Any = None
        self.bot_log = root / "mailbot.log"
        self.postfix = self._postfix(smtp_port)

    # ------------------------------------------------------------ Postfix from the guide

    def _postfix(self, smtp_port: int) -> PostfixInstance:
        conf = self.root / "postfix" / "conf"
        if self.imap_variant:
            heading = "Replies from a Dovecot (or any IMAP) mailbox"
            main = recipe.block_for(heading, "# /etc/postfix/main.cf")
            transport = recipe.block_for(heading, "# /etc/postfix/transport")
            virtual = recipe.block_for(heading, "# /etc/postfix/virtual")
            # The guide's Dovecot listens on Postfix's private socket; this one on a TCP port.
            transport = transport.replace("lmtp:unix:private/dovecot-lmtp",
                                          f"lmtp:inet:127.0.0.1:{self.mailstore.lmtp_port}")
            self.mailstore.add_user(f"innbyggerpanel@{REPLY_DOMAIN}", PANEL_PASSWORD)
            maps = {"transport": recipe.swap(transport, NAMES), "virtual": recipe.swap(virtual, NAMES)}
        else:
            heading = "Replies from Postfix over LMTP"
            main = recipe.block_for(heading, "# /etc/postfix/main.cf")
            transport = recipe.block_for(heading, "# /etc/postfix/transport")
            maps = {"transport": recipe.panel_path(recipe.swap(transport, NAMES), self.panel, self.runtime)}
        main = recipe.swap(main, NAMES).replace("/etc/postfix/", f"{conf}/")
        for name, value in recipe.settings(main).items():
            assert value, f"docs/operations.md: {name} has no value"
        (self.root / "postfix").mkdir(parents=True, exist_ok=True)
        (self.root / "postfix" / "conf").mkdir(parents=True, exist_ok=True)
        (conf / "header_checks").write_text("/^Subject:/ INFO\n")
        instance = PostfixInstance(
            self.root / "postfix", municipality=MUNICIPALITY, residents=RESIDENTS,
            dovecot_lmtp_port=self.mailstore.lmtp_port, sasl_socket=self.mailstore.sasl_socket,
            cert=self.mailstore.cert, key=self.mailstore.key, main_from_docs=main, maps=maps,
            # Accept any resident's address and let Dovecot say who exists: Postfix then bounces.
            extra=f"smtpd_reject_unlisted_recipient = no\nheader_checks = regexp:{conf}/header_checks")
        instance.smtp_port = smtp_port
        instance.values["smtp_port"] = smtp_port
        return instance

    # ------------------------------------------------------------ life cycle

    def start(self) -> Installation:
        self.mailstore.start()
        self.postfix.start()
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        admin.dispose()
        self._write_panel()
        return self

    def stop(self) -> None:
        self.stop_bot()
        if self._engine is not None:
            self._engine.dispose()
        self.postfix.stop()
        self.mailstore.stop()
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
        admin.dispose()

    @property
    def database_url(self) -> str:
        sep = "&" if "?" in PG_URL else "?"
        return f"{PG_URL}{sep}options=-csearch_path%3D{self.schema}"

    def _write_panel(self) -> None:
        self.panel.mkdir(parents=True)
        (self.panel / "schedules").mkdir()
        self.runtime.mkdir()
        # The unit's RuntimeDirectory belongs to the bot's group, which the postfix user is in
        # (the guide's `usermod -aG mailbot postfix`): here the folder's group is postfix itself.
        shutil.chown(self.runtime, group="postfix")
        self.runtime.chmod(0o2770)
        inbound = ""
        if self.imap_variant:
            inbound = recipe.swap(re.search(r'(?ms)^\[inbound\]\n.*?(?=^```)',  # type: ignore[union-attr]
                                            recipe.section("Replies from a Dovecot (or any IMAP) mailbox")).group(0),
                                  NAMES)
            inbound = inbound.replace('host = "mail.kommune.test"', 'host = "127.0.0.1"')
            inbound = re.sub(r"(?m)^port = 143$", f"port = {self.mailstore.imap_port}", inbound)
            inbound += 'idle = true\nstate_file = "var/imap-state.json"\n'
        relay = recipe.swap(recipe.block_for("Sending through your relay", "[transport]"), NAMES)
        relay = relay.replace('host = "smtp.office365.com"', 'host = "127.0.0.1"')
        relay = re.sub(r"(?m)^port = 587$", f"port = {self.postfix.submission_port}", relay)
        relay = relay.replace(f'username = "innbyggerpanel@{MUNICIPALITY}"', f'username = "{PANEL_ADDRESS}"')
        (self.panel / "config.toml").write_text(f"""
[panel]
name = "Innbyggerpanelet"
organisation = "Kommunen"
address = "{PANEL_ADDRESS}"
reply_domain = "{REPLY_DOMAIN}"
public_url = "http://127.0.0.1:{self.web_port}"
timezone = "Europe/Oslo"
language = "nb"

[database]
url = "{self.database_url}"

{relay}
[sending]
sending_timeout = 10

[privacy]
min_group_size = 1

[paths]
schedules = "schedules"
templates = "{ROOT / 'templates'}"

{inbound}
""", encoding="utf-8")
        (self.panel / ".env").write_text(f"MAILBOT_TOKEN_KEY=deployment-test-key-{uuid.uuid4().hex}\n"
                                         f"MAILBOT_SMTP_PASSWORD={PANEL_PASSWORD}\n"
                                         f"MAILBOT_IMAP_PASSWORD={PANEL_PASSWORD}\n")

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAILBOT_")}
        env["SSL_CERT_FILE"] = str(self.mailstore.cert)  # the test's CA, as an operator installs theirs
        env["COLUMNS"] = "300"
        env.pop("SSL_CERT_DIR", None)
        return env

    # ------------------------------------------------------------ the bot

    def mailbot(self, *args: str, check: bool = True) -> str:
        done = subprocess.run([str(BIN / "mailbot"), *args], cwd=self.panel, env=self.env(), capture_output=True,
                              text=True, timeout=120)
        if check and done.returncode != 0:
            raise AssertionError(f"mailbot {' '.join(args)} exited {done.returncode}: {done.stdout}{done.stderr}")
        return done.stdout

    def start_bot(self, *extra: str) -> None:
        """The systemd unit's ExecStart, in the test's folders, plus `extra` flags."""
        command = [recipe.panel_path(a, self.panel, self.runtime) for a in recipe.unit_exec_start()]
        command[0] = str(BIN / "mailbot")  # /srv/panel/.venv/bin/mailbot
        if self.imap_variant:  # the guide's IMAP variant: no LMTP socket, the mailbox from config.toml
            i = command.index("--inbound")
            del command[i:i + 2]
        command += ["--port", str(self.web_port), "--every", "2", *extra]
        self.bot_log.open("ab").write(f"\n$ {' '.join(command)}\n".encode())
        self.bot = subprocess.Popen(command, cwd=recipe.panel_path(recipe.unit_value("WorkingDirectory"),
                                                                     self.panel, self.runtime),
                                    env=self.env(), stdout=self.bot_log.open("ab"), stderr=subprocess.STDOUT)
        wait_until("the bot's web port", lambda: listening(self.web_port) or self.bot_died(), 30)
        assert not self.bot_died(), self.bot_output()
        if not self.imap_variant:
            wait_until("the LMTP socket", lambda: (self.runtime / "lmtp.sock").exists(), 10)

    def bot_died(self) -> bool:
        return self.bot is not None and self.bot.poll() is not None

    def bot_output(self) -> str:
        return self.bot_log.read_text(errors="replace")[-6000:] if self.bot_log.exists() else ""

    def kill_bot(self) -> None:
        assert self.bot is not None
        self.bot.send_signal(signal.SIGKILL)
        self.bot.wait()
        self.bot = None

    def stop_bot(self) -> int | None:
        bot, self.bot = self.bot, None
        if bot is None or bot.poll() is not None:
            return None if bot is None else bot.returncode
        bot.send_signal(signal.SIGTERM)
        try:
            return bot.wait(60)
        except subprocess.TimeoutExpired:
            bot.kill()
            bot.wait()
            return -9

    def count_sent(self, step: str) -> int:
        """Emails of a step recorded as sent, read straight from the database (fast enough to time a kill)."""
        if self._engine is None:
            self._engine = create_engine(self.database_url)
        with self._engine.connect() as c:
            return int(c.execute(text("select count(*) from outbox where step = :s and status = 'sent'"),
                                 {"s": step}).scalar() or 0)

    def ledger(self, campaign: str) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.mailbot("ledger", "--campaign", campaign, "--json").splitlines()
                if line.strip()]

    # ------------------------------------------------------------ residents

    def add_resident(self, local: str) -> str:
        address = f"{local}@{RESIDENTS}"
        self.mailstore.add_user(address, RESIDENT_PASSWORD)
        return address

    def _s_nail(self, address: str, args: list[str], script: str, *, quote: bool = False) -> None:
        """s-nail as `address`'s mail client: sends through the submission port with STARTTLS and AUTH."""
        user = address.replace("@", "%40")
        options = ["-S", "v15-compat", "-S", f"mta=smtp://{user}:{RESIDENT_PASSWORD}@localhost:"
                   f"{self.postfix.submission_port}", "-S", "smtp-use-starttls", "-S", "smtp-auth=plain",
                   "-S", f"tls-ca-file={self.mailstore.cert}", "-S", f"from={address}", "-S", "reply-to-honour=yes",
                   "-S", "sendwait", "-S", "sendcharsets=utf-8", "-S", "ttycharset=utf-8"]
        if quote:
            options += ["-S", "quote", "-S", "indentprefix=> "]
        env = {"MAILRC": "/dev/null", "HOME": str(self.root), "PATH": os.environ.get("PATH", ""),
               "LC_ALL": "C.UTF-8"}
        done = subprocess.run([S_NAIL, "-n", "-#", *options, *args], input=script.encode(), capture_output=True,
                              env=env, timeout=60)
        err = done.stderr.decode(errors="replace")
        assert done.returncode == 0 and "not sent" not in err, f"s-nail for {address}: {err}"

    def reply_with_s_nail(self, address: str, message_number: int, body: str, *, quote: bool = False) -> None:
        """s-nail opens the resident's Maildir, replies to message N (Reply-To honoured), types `body`, sends."""
        self._s_nail(address, ["-f", f"maildir://{self.mailstore.maildir(address)}"],
                     f"Reply {message_number}\n{body}\n~.\nquit\n", quote=quote)

    def send_with_s_nail(self, address: str, to: str, subject: str, body: str) -> None:
        """A new email from `address` to `to`, written in s-nail."""
        self._s_nail(address, ["-s", subject, to], body + "\n")

    def inbox_subjects(self, address: str) -> list[str]:
        return [str(m["Subject"]) for _, m in self.mailstore.messages(address)]

    # ------------------------------------------------------------ Postfix's log

    def logged_subjects(self) -> Iterator[tuple[str, str, str]]:
        """(queue id, envelope recipient, decoded Subject) for each message Postfix took in (header_checks INFO)."""
        for m in re.finditer(r"(\w+): info: header Subject: (.*?) from \S+; from=<([^>]*)> to=<([^>]*)>",
                             self.postfix.log()):
            subject = str(make_header(decode_header(m.group(2))))
            yield m.group(1), m.group(4), subject


def new_root() -> Path:
    # Not pytest's tmp_path: it is 0700, and Postfix and Dovecot switch to users of their own.
    root = Path(tempfile.mkdtemp(prefix="mailbot-deploy-"))
    root.chmod(0o755)
    return root
