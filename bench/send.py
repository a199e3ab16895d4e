"""Send path vs raw SMTP, same run: `python bench/send.py [N] [--rounds R] [--dkim]`.

The send path is the real one: members in the store, invitations queued,
then claim -> compose (templates, tokens) -> send -> record, into an aiosmtpd
sink in its own process, over one reused connection. The raw loop sends the
same N messages, built beforehand by the same composer, with
`smtplib.SMTP.sendmail` over one reused connection to the same sink.

The two loops alternate for R rounds (the machine is shared: one loop must
not get the quiet minute and the other the busy one); the sink counts the
messages and content bytes each loop delivered, and they must match. Printed:
best and median rate of each, the ratio of the medians (the figure to
report), and the load average before and after.

`--dkim` signs in both loops (a fresh RSA 2048 key) and also prints dkimpy's
sign-only rate, measured between the rounds, and the send rate as a share of it.
"""

from __future__ import annotations

import os
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import update  # noqa: E402

from mailbot.dkim import DkimSigner  # noqa: E402
from mailbot.sending import SendOptions, send_due  # noqa: E402
from mailbot.store import Store  # noqa: E402
from mailbot.store import outbox as outbox_store  # noqa: E402
from mailbot.store.models import Outbox  # noqa: E402
from mailbot.transport.smtp import SmtpSender, SmtpSettings  # noqa: E402
from tests.outbound.conftest import NOW, make_bot, queue_invitations  # noqa: E402
from tests.outbound.mta import free_port  # noqa: E402


class Sink:
    """tests/outbound/mta.py in its own process; `stats()` is (messages, content bytes) so far."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.outbound.mta", str(self.port)], cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.proc.stdout.readline()

    def stats(self) -> tuple[int, int]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("stats\n")
        self.proc.stdin.flush()
        messages, size = self.proc.stdout.readline().split()
        return int(messages), int(size)

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait()


def arg(name: str, default: int) -> int:
    return int(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


def main() -> None:
    args = [a for i, a in enumerate(sys.argv[1:], 1) if not (i > 1 and sys.argv[i - 1] == "--rounds")]
    n = int(next((a for a in args if a.isdigit()), "1000"))
    use_dkim = "--dkim" in sys.argv
    rounds = arg("--rounds", 3 if use_dkim else 5)
    load_before = os.getloadavg()
    sink = Sink()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/bench.sqlite3")
        store.upgrade()
        bot = make_bot(Path(tmp), store, sink.port)
        queue_invitations(store, n)
        signer = None
        if use_dkim:
            key = Path(tmp) / "k.pem"
            subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
            signer = DkimSigner("bench", "baerum.example.no", key.read_bytes())
        opts = SendOptions(signer=signer)

        # The raw loop's messages: the same rows, composed (and signed) beforehand by the same composer.
        with store.transaction() as s:
            rows = outbox_store.claim(s, NOW, n)
        built = []
        for r in rows:
            m, rp = bot.composer(r, NOW)
            data = m.as_bytes()
            built.append((signer.sign(data) if signer else data, rp, r.recipient.email if r.recipient else ""))

        def requeue() -> None:
            with store.transaction() as s:
                s.execute(update(Outbox).values(status="queued", attempts=0, not_before=NOW, claimed_at=None,
                                                sent_at=None, smtp_response=None, message_id=None))

        def send_path() -> tuple[float, int]:
            requeue()
            before = sink.stats()
            smtp = SmtpSender(SmtpSettings("127.0.0.1", sink.port, reconnect_after=1_000_000))
            t0 = time.perf_counter()
            report = send_due(store, bot.composer, smtp, NOW, options=opts)
            took = time.perf_counter() - t0
            smtp.close()
            after = sink.stats()
            assert report.sent == n and smtp.connections == 1 and after[0] - before[0] == n, report
            return n / took, after[1] - before[1]

        def raw() -> tuple[float, int]:
            before = sink.stats()
            conn = smtplib.SMTP("127.0.0.1", sink.port)
            t0 = time.perf_counter()
            for data, rp, to in built:
                conn.sendmail(rp, [to], data)
            took = time.perf_counter() - t0
            conn.quit()
            after = sink.stats()
            assert after[0] - before[0] == n
            return n / took, after[1] - before[1]

        sign_rates: list[float] = []

        def sign_only() -> float:
            assert signer is not None
            k = min(n, 100)
            unsigned = [bot.composer(r, NOW)[0].as_bytes() for r in rows[:k]]
            t0 = time.perf_counter()
            for data in unsigned:
                signer.sign(data)
            return k / (time.perf_counter() - t0)

        send_rates, raw_rates, pairs = [], [], []
        send_bytes = raw_bytes = 0
        for _ in range(rounds):
            s_rate, send_bytes = send_path()
            r_rate, raw_bytes = raw()
            if signer:
                sign_rates.append(sign_only())
            send_rates.append(s_rate)
            raw_rates.append(r_rate)
            pairs.append(s_rate / r_rate)
        store.dispose()
    sink.stop()
    send_med, raw_med = statistics.median(send_rates), statistics.median(raw_rates)
    print(f"messages={n} rounds={rounds} dkim={use_dkim} bytes_per_message={send_bytes // n}")
    print(f"load_before={load_before[0]:.2f} load_after={os.getloadavg()[0]:.2f} cpus={os.cpu_count()}")
    print(f"content_bytes send_path={send_bytes} raw={raw_bytes} same={send_bytes == raw_bytes}")
    print(f"send_per_s best={max(send_rates):.0f} median={send_med:.0f} all={[round(x) for x in send_rates]}")
    print(f"raw_per_s best={max(raw_rates):.0f} median={raw_med:.0f} all={[round(x) for x in raw_rates]}")
    print(f"ratio median/median={send_med / raw_med:.2f} best/best={max(send_rates) / max(raw_rates):.2f} "
          f"paired_median={statistics.median(pairs):.2f}")
    if sign_rates:
        sign_med = statistics.median(sign_rates)
        print(f"sign_only_per_s best={max(sign_rates):.1f} median={sign_med:.1f}")
        print(f"dkim_ratio send/sign_only median/median={send_med / sign_med:.2f} "
              f"best/best={max(send_rates) / max(sign_rates):.2f}")


if __name__ == "__main__":
    main()
