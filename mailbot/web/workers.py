"""The resident pages in N processes on one port: `mailbot web --workers N` (issue 12).

One uvicorn worker renders pages, checks tokens and records clicks on one core
at most (the GIL). Here the parent binds the listening socket and forks N
children; each builds its own app and store (its own database connections:
none cross a fork) and serves the inherited socket, so the kernel hands each
new connection to whichever child accepts first and clicks use every core.

The parent only supervises: SIGTERM or SIGINT is passed on to the children,
which finish the requests in hand (uvicorn's graceful shutdown) and exit; if
one child dies, the others are stopped and the exit code is 1, so systemd (or
whoever started it) restarts the whole, never a half.

Only for PostgreSQL with N > 1: SQLite's write queue (`mailbot.store.WriteQueue`)
orders writers within one process; between processes only SQLite's busy
handler is left, which keeps no order and gives up after 30 s. The per-client
rate limit is counted in each process, so N workers allow N times as much.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("mailbot.web")

AppFactory = Callable[[], Any]  # builds the ASGI app (and its store) inside a worker


class WebWorkersError(Exception):
    """The pages cannot be served as asked (a port taken, several workers on SQLite)."""


def listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise WebWorkersError(f"cannot serve the web pages on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def serve(make_app: AppFactory, host: str, port: int, workers: int, *,
          ready: Callable[[int], None] | None = None) -> int:
    """Serve until SIGTERM/SIGINT; 0 when stopped so, 1 when a worker died. `ready(port)` once listening."""
    sock = listen(host, port)
    bound = int(sock.getsockname()[1])
    fork = multiprocessing.get_context("fork")
    children = [fork.Process(target=_worker, args=(make_app, sock), name=f"mailbot-web-{i + 1}", daemon=False)
                for i in range(workers)]
    stopping = [False]

    def stop(signum: int, _frame: Any) -> None:
        stopping[0] = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        for child in children:
            child.start()
        log.info("listening what=http host=%s port=%s workers=%s", host, bound, workers)
        if ready is not None:
            ready(bound)
        while not stopping[0] and all(c.is_alive() for c in children):
            time.sleep(0.2)
        died = [c.name for c in children if not c.is_alive()]
        if died and not stopping[0]:
            log.error("web worker stopped unexpectedly name=%s; stopping the others", ",".join(died))
        for child in children:
            if child.is_alive() and child.pid:
                os.kill(child.pid, signal.SIGTERM)
        for child in children:
            child.join(30)
            if child.is_alive():
                child.kill()
                child.join()
        return 0 if stopping[0] else 1
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        sock.close()


def _worker(make_app: AppFactory, sock: socket.socket) -> None:
    import uvicorn

    app = make_app()  # uvicorn's own handlers stop it on SIGTERM (from the parent) or SIGINT (Ctrl-C)
    config = uvicorn.Config(app, lifespan="off", log_config=None, access_log=False, log_level="warning")
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
