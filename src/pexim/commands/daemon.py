"""`pexim -bd` / `-bdf`: the master process and its receiving workers.

The master binds the sockets (as root if need be), writes the PID file and
forks one worker per core; the workers inherit the sockets, drop to
exim_user/exim_group when started as root, and each run an asyncio loop
(smtp/listener.py).  No fork per message: a worker serves many connections.
SIGTERM: the master stops the workers, which stop accepting and let open
connections finish (a message is acknowledged only once on disk, so an
abandoned one was never accepted); SIGHUP: the master re-executes itself
with the same arguments, re-reading the configuration like Exim.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time

from pexim.log import Flags, Logger
from pexim.privileges import drop_privileges, exim_ids
from pexim.smtp.listener import Counters, Worker, listen_addresses, open_sockets

GRACE_SECONDS = 10


_LAZY_STDLIB = ("base64", "crypt", "errno", "fcntl", "hashlib", "shlex", "socket", "struct",
                "syslog", "traceback", "email.utils", "encodings.idna")


def preload() -> None:
    """Import every pexim module (and the stdlib ones imported lazily) now.

    After the workers drop to exim_user, the Python installation may not be
    readable (a venv under /root), and imports inside functions would fail
    mid-connection; fork then shares the loaded modules between workers.
    """
    import importlib
    import pkgutil
    import warnings

    import pexim

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in list(_LAZY_STDLIB) + [m.name for m in pkgutil.walk_packages(
                pexim.__path__, "pexim.") if not m.name.endswith("__main__")]:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - an optional dependency that is missing
                pass


def _workers() -> int:
    return int(os.environ.get("PEXIM_WORKERS") or os.cpu_count() or 1)


def run(config, inv) -> int:
    main = config.main
    foreground = inv.mode == "-bdf"
    try:
        addrs = listen_addresses(str(main.get("local_interfaces") or ""),
                                 str(main.get("daemon_smtp_ports") or "smtp"),
                                 inv.values.get("-oX"))
        socks = open_sockets(addrs, int(main.get("smtp_connect_backlog") or 20))
    except OSError as err:
        sys.stderr.write("%s\n" % (err.strerror or err))
        return 1
    ids = exim_ids(config)
    if ids is not None:
        preload()
    logger = Logger.from_config(config)
    _prepare_dirs(config, ids, logger)
    if not foreground:
        if os.fork():
            return 0
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.close(null)
    pid_path = inv.values.get("-oP")
    if pid_path is None and "-oX" not in inv.values:
        pid_path = main.get("pid_file_path") or None
    if pid_path:
        pid_path = pid_path.replace("%s", "")
        with open(pid_path, "w") as f:
            f.write("%d\n" % os.getpid())
    where = ", ".join("[%s]:%d" % a for a in addrs)
    queue = "no queue runs"
    if inv.queue_spec:
        queue = "-q%s" % inv.queue_spec[2:]
    logger.write(Flags.MAIN, "exim 4.96 daemon started: pid=%d, %s, listening for SMTP on %s"
                 % (os.getpid(), queue, where))
    _chown_logs(logger, ids)
    counters = Counters()
    master = _Master(config, socks, counters, ids, logger, inv.queue_spec)
    rc = master.supervise()
    for s in socks:
        s.close()
    if pid_path:
        try:
            os.unlink(pid_path)
        except OSError:
            pass
    if master.reload:
        logger.write(Flags.MAIN, "pid %d: SIGHUP received: re-exec daemon" % os.getpid())
        os.execv(sys.executable, [sys.executable, "-m", "pexim"] + sys.argv[1:])
    return rc


def _prepare_dirs(config, ids, logger) -> None:
    """The spool and log directories, owned by the exim user the workers become."""
    from pexim.spool.paths import SpoolPaths
    paths = SpoolPaths.from_config(config)
    paths.ensure("input", None, ids)
    dirs = {paths.spool_directory} | {os.path.dirname(p) for p in logger.paths}
    for d in dirs:
        os.makedirs(d, 0o750, exist_ok=True)
        if ids is not None:
            os.chown(d, *ids)


def _chown_logs(logger, ids) -> None:
    """The master (root) opened the main log first: hand it to the exim user."""
    logger.close()
    if ids is None:
        return
    for path in logger.paths:
        d = os.path.dirname(path)
        for name in os.listdir(d):
            os.chown(os.path.join(d, name), *ids)


class _Master:
    def __init__(self, config, socks, counters, ids, logger, queue_spec=None):
        import socket

        self.config = config
        self.queue_spec = queue_spec
        # Receiving workers post the ids of accepted messages to the delivery worker.
        self.notify_r, self.notify_w = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socks = socks
        self.counters = counters
        self.ids = ids
        self.logger = logger
        self.children: dict[int, tuple[float, str]] = {}
        self.stop = False
        self.reload = False

    def supervise(self) -> int:
        signal.signal(signal.SIGTERM, self._on_term)
        signal.signal(signal.SIGINT, self._on_term)
        signal.signal(signal.SIGHUP, self._on_hup)
        self._spawn("delivery")
        for _ in range(_workers()):
            self._spawn("smtp")
        while self.children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            entry = self.children.pop(pid, None)
            if entry is None:
                continue
            started, role = entry
            if not self.stop:
                if status and time.monotonic() - started < 1:
                    time.sleep(1)       # a worker dying at once: do not spin
                self._spawn(role)
        return 0

    def _signal_children(self, sig) -> None:
        for pid in list(self.children):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def _on_term(self, signum, frame) -> None:
        self.stop = True
        self._signal_children(signal.SIGTERM)

    def _on_hup(self, signum, frame) -> None:
        self.reload = True
        self._on_term(signum, frame)

    def _spawn(self, role: str) -> None:
        pid = os.fork()
        if pid:
            self.children[pid] = (time.monotonic(), role)
            return
        code = 1
        try:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                signal.signal(sig, signal.SIG_DFL)
            if role == "delivery":
                # Stays root when started as root: local deliveries change to the
                # recipient's uid per transport run (delivery/deliver.py).
                for s in self.socks:
                    s.close()
                code = delivery_main(self.config, self.notify_r, self.queue_spec, self.ids)
            else:
                drop_privileges(self.ids)
                code = worker_main(self.config, self.socks, self.counters, self.ids,
                                   self.notify_w)
        except BaseException:  # noqa: BLE001 - a worker must never return into the master
            import traceback
            traceback.print_exc()
        finally:
            os._exit(code)


def delivery_main(config, notify, queue_spec, ids) -> int:
    """The daemon's delivery worker: immediate deliveries and periodic queue runs."""
    import select

    from pexim.delivery.deliver import Deliverer, Options
    from pexim.delivery.queue_runner import parse_spec
    from pexim.delivery.queue_runner import run as queue_run

    logger = Logger.from_config(config)
    deliverer = Deliverer(config, logger, owner=ids)
    spec = parse_spec(queue_spec) if queue_spec else None
    interval = spec.interval if spec is not None else None
    next_run = time.monotonic() + interval if interval else None
    stop = []
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGHUP, lambda *_: stop.append(1))
    while not stop:
        timeout = max(0.0, next_run - time.monotonic()) if next_run else None
        ready, _, _ = select.select([notify, wake_r], [], [], timeout)
        if wake_r in ready:
            os.read(wake_r, 64)
        if notify in ready and not stop:
            try:
                data = notify.recv(256)
            except (BlockingIOError, InterruptedError):
                continue
            message_id = data.decode("ascii", "replace")
            try:
                deliverer.deliver(message_id, Options())
            except Exception as err:  # noqa: BLE001 - stay up; the message stays queued
                logger.write(Flags.PANIC, "delivery of %s failed: %s" % (message_id, err))
        if next_run is not None and time.monotonic() >= next_run:
            spec.flags = ""
            queue_run(config, logger, spec, deliverer)
            next_run = time.monotonic() + interval
    return 0


def worker_main(config, socks, counters, ids, notify=None) -> int:
    from pexim.smtp.connection import LiveSession
    from pexim.smtp.receive import Receiver, originator

    logger = Logger.from_config(config)
    receiver = Receiver(config, logger, None)
    if notify is not None:
        notify.setblocking(False)

        def post(message_id: str) -> None:
            try:
                notify.send(message_id.encode("ascii"))
            except OSError:     # delivery worker busy or gone: the next queue run has it
                pass
        receiver.after_accept = post
    orig = originator()

    def log_write(text, flags):
        f = Flags(0)
        for name in flags:
            f |= {"main": Flags.MAIN, "reject": Flags.REJECT, "panic": Flags.PANIC}[name]
        logger.write(f, text)

    def session(ip, port, iface):
        return LiveSession(config, receiver, log_write, ip, port, iface, orig)

    worker = Worker(config, receiver, logger, socks, counters, orig, session)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        done = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, done.set)
        loop.add_signal_handler(signal.SIGHUP, done.set)
        await worker.start()
        await done.wait()
        await worker.stop(GRACE_SECONDS)

    asyncio.run(main())
    receiver.close()
    return 0
