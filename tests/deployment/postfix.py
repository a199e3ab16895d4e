"""A Postfix instance of the test's own: its config, queue and log under one temporary folder, on loopback.

`PostfixInstance(base, ...)` writes `main.cf` and `master.cf` into `base/conf`
and runs `postfix -c base/conf start`: the machine's `/etc/postfix` is neither
read nor changed (only the package's programs and its `postfix-files` list are
used), and two test runs never share a queue or a port. It plays the
municipality's MTA:

- `smtp_port` (like port 25): mail from outside. `mynetworks` holds no
  loopback address, so a client on 127.0.0.1 is "the Internet" here and gets
  only what the configuration relays for anyone (the reply domain, through the
  `relay_domains` the operations guide asks for) and the residents' domain.
- `submission_port` (like 587): STARTTLS required, then AUTH against Dovecot
  (`smtpd_sasl_type = dovecot`); authenticated clients may send anywhere.
- the residents' domain goes to Dovecot over LMTP (`virtual_transport`),
  which refuses unknown users: Postfix then bounces to the envelope sender.

Postfix logs to `base/postfix.log` (postlogd), read by `log()`.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

from tests.dovecot.server import free_port, listening

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
POSTMAP = shutil.which("postmap") or "/usr/sbin/postmap"


def postfix_installed() -> bool:
    return Path(POSTFIX).exists() and Path(POSTMAP).exists()


MASTER_CF = """\
# Rendered by tests/deployment/postfix.py: only loopback, nothing chrooted.
127.0.0.1:{smtp_port} inet n - n - - smtpd
127.0.0.1:{submission_port} inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

MAIN_CF = """\
# Rendered by tests/deployment/postfix.py. The block between the markers
# below comes from docs/operations.md, with its names swapped for the test's.
compatibility_level = 3.6
queue_directory = {base}/queue
data_directory = {base}/data
mail_owner = postfix
setgid_group = postdrop
maillog_file_prefixes = {base}
maillog_file = {base}/postfix.log
syslog_name = postfix-mailbot-test
myhostname = mx.{municipality}
mydomain = {municipality}
myorigin = {municipality}
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
# No loopback address: a client on 127.0.0.1 counts as the Internet.
mynetworks = 192.0.2.1/32
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtputf8_enable = no
# No DNS here: every next hop in this instance is a numeric address.
smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled
disable_dns_lookups = yes
# The residents' mailboxes: Dovecot over LMTP, which refuses users it does not know.
virtual_mailbox_domains = {residents}
virtual_transport = lmtp:inet:127.0.0.1:{dovecot_lmtp_port}
# TLS and AUTH on the submission port (master.cf), checked by Dovecot.
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
smtpd_tls_security_level = may
smtpd_sasl_type = dovecot
smtpd_sasl_path = {sasl_socket}
smtpd_sasl_auth_enable = no
# Short retries: a restart of the bot (451 meanwhile) must not cost the test minutes.
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 4s
delay_warning_time = 0
lmtp_connect_timeout = 5s
{extra}
# --- from docs/operations.md
{from_docs}
# --- end
"""


class PostfixInstance:
    def __init__(self, base: Path, *, municipality: str, residents: str, dovecot_lmtp_port: int, sasl_socket: Path,
                 cert: Path, key: Path, main_from_docs: str, maps: Mapping[str, str], extra: str = ""):
        self.base = base
        self.conf = base / "conf"
        self.smtp_port = free_port()
        self.submission_port = free_port()
        self.values = dict(base=base, municipality=municipality, residents=residents,
                           dovecot_lmtp_port=dovecot_lmtp_port, sasl_socket=sasl_socket, cert=cert, key=key,
                           smtp_port=self.smtp_port, submission_port=self.submission_port)
        self.main_from_docs = main_from_docs
        self.maps = dict(maps)  # file name in conf/ -> contents (postmap'ed as hash: tables)
        self.extra = extra
        self.started = False

    def postfix(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([POSTFIX, "-c", str(self.conf), *args], capture_output=True, text=True, timeout=60)
        if check and done.returncode != 0:
            raise RuntimeError(f"postfix {' '.join(args)}: {done.stdout}{done.stderr}\n{self.log()}")
        return done

    def start(self, timeout: float = 20.0) -> PostfixInstance:
        self.conf.mkdir(parents=True, exist_ok=True)
        for sub in ("queue", "data"):
            (self.base / sub).mkdir(exist_ok=True)
        shutil.chown(self.base / "data", "postfix", "postfix")
        (self.conf / "master.cf").write_text(MASTER_CF.format(**self.values))
        (self.conf / "main.cf").write_text(MAIN_CF.format(**self.values, extra=self.extra,
                                                          from_docs=self.main_from_docs))
        # postfix-files (the package's list of what to create) and dynamicmaps are read from /etc/postfix.
        for name, text in self.maps.items():
            (self.conf / name).write_text(text)
            done = subprocess.run([POSTMAP, "-c", str(self.conf), f"hash:{self.conf / name}"],
                                  capture_output=True, text=True, timeout=30)
            if done.returncode != 0:
                raise RuntimeError(f"postmap {name}: {done.stderr}")
        self.postfix("set-permissions", check=False)
        self.postfix("start")
        self.started = True
        deadline = time.monotonic() + timeout
        while not (listening(self.smtp_port) and listening(self.submission_port)):
            if time.monotonic() > deadline:
                raise RuntimeError(f"postfix did not listen within {timeout}s\n{self.log()}")
            time.sleep(0.1)
        return self

    def stop(self) -> None:
        if not self.started:
            return
        self.started = False
        self.postfix("stop", check=False)
        deadline = time.monotonic() + 15
        while (listening(self.smtp_port) or listening(self.submission_port)) and time.monotonic() < deadline:
            time.sleep(0.1)
        if listening(self.smtp_port) or listening(self.submission_port):
            self.postfix("abort", check=False)

    def flush(self) -> None:
        self.postfix("flush", check=False)

    def log(self) -> str:
        path = self.base / "postfix.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def queue_is_empty(self) -> bool:
        done = subprocess.run([shutil.which("postqueue") or "/usr/sbin/postqueue", "-c", str(self.conf), "-j"],
                              capture_output=True, text=True, timeout=30)
        return done.returncode == 0 and not done.stdout.strip()
