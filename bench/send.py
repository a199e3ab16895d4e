"""Send path vs raw SMTP, same run: `python bench/send.py [N]` prints send_per_s, raw_per_s and ratio.

The send path is the demo's: members in the store, invitations queued, then
claim -> compose (templates, tokens) -> send -> record, into an aiosmtpd sink
in its own process. The raw loop sends the same number of pre-built messages
with smtplib over one reused connection to the same sink. `--dkim` adds
DKIM signing and also prints dkimpy's sign-only rate.
"""

from __future__ import annotations

import smtplib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mailbot.dkim import DkimSigner  # noqa: E402
from mailbot.sending import SendOptions, send_due  # noqa: E402
from mailbot.store import Store  # noqa: E402
from mailbot.transport.smtp import SmtpSender, SmtpSettings  # noqa: E402
from tests.outbound.conftest import NOW, make_bot, queue_invitations  # noqa: E402
from tests.outbound.mta import free_port  # noqa: E402


def main() -> None:
    n = int(next((a for a in sys.argv[1:] if a.isdigit()), "2000"))
    use_dkim = "--dkim" in sys.argv
    port = free_port()
    sink = subprocess.Popen([sys.executable, "-m", "tests.outbound.mta", str(port)], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert sink.stdout is not None
    sink.stdout.readline()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/bench.sqlite3")
        store.upgrade()
        bot = make_bot(Path(tmp), store, port)
        queue_invitations(store, n)
        signer = None
        if use_dkim:
            key = Path(tmp) / "k.pem"
            subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
            signer = DkimSigner("bench", "baerum.example.no", key.read_bytes())
        opts = SendOptions(signer=signer)
        smtp = SmtpSender(SmtpSettings("127.0.0.1", port, reconnect_after=100_000))
        t0 = time.perf_counter()
        report = send_due(store, bot.composer, smtp, NOW, options=opts)
        send_s = time.perf_counter() - t0
        smtp.close()
        assert report.sent == n, report
        # the same messages, pre-built, over one plain smtplib connection
        from mailbot.store import outbox as outbox_store

        with store.transaction() as s:
            s.execute(outbox_store.update(outbox_store.Outbox).values(status="queued"))
            rows = outbox_store.claim(s, NOW, n)
        built = []
        for r in rows:
            m, rp = bot.composer(r, NOW)
            data = m.as_bytes()
            built.append((signer.sign(data) if signer else data, rp, r.recipient.email if r.recipient else ""))
        conn = smtplib.SMTP("127.0.0.1", port)
        t0 = time.perf_counter()
        for data, rp, to in built:
            conn.sendmail(rp, [to], data)
        raw_s = time.perf_counter() - t0
        conn.quit()
        send_rate, raw_rate = n / send_s, n / raw_s
        print(f"messages={n} dkim={use_dkim}")
        print(f"send_per_s={send_rate:.0f}")
        print(f"raw_per_s={raw_rate:.0f}")
        print(f"ratio={send_rate / raw_rate:.2f}")
        if signer:
            sample = built[0][0]
            t0 = time.perf_counter()
            k = min(n, 200)
            for _ in range(k):
                signer.sign(sample)
            sign_rate = k / (time.perf_counter() - t0)
            print(f"sign_only_per_s={sign_rate:.0f}")
            print(f"dkim_ratio={send_rate / sign_rate:.2f}")
        store.dispose()
    sink.stdin.close()  # type: ignore[union-attr]
    sink.wait()


if __name__ == "__main__":
    main()
