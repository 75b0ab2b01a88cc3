"""LMTP to a real Dovecot: the lmtp transport (Unix socket and command) and the
smtp transport with protocol = lmtp (TCP), asserting the bytes in the Maildir
and the per-recipient refusal of an unknown user.

Dovecot runs in the foreground (dovecot -F) from a minimal configuration in a
temporary directory: an LMTP Unix socket and TCP listener, passwd-file users
alice and bob, Maildirs under the directory; it is stopped by its PID.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "transports"))
from smtp_servers import pexim_receive, pexim_transport  # noqa: E402

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
LMTP_BIN = "/usr/lib/dovecot/lmtp"
pytestmark = pytest.mark.skipif(
    not (os.path.exists(DOVECOT) and os.path.exists(LMTP_BIN) and os.geteuid() == 0),
    reason="needs dovecot-core, dovecot-lmtpd and root")

DOVECOT_CONF = """\
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = lmtp
listen = 127.0.0.1
ssl = no
first_valid_uid = 8
mail_location = maildir:{d}/mail/%n
auth_username_format = %Ln
passdb {{
  driver = passwd-file
  args = {d}/users
}}
userdb {{
  driver = passwd-file
  args = {d}/users
  default_fields = uid=mail gid=mail home={d}/mail/%n
}}
service lmtp {{
  unix_listener {d}/lmtp.sock {{
    mode = 0666
  }}
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {port}
  }}
}}
"""

PEXIM_CONF = """\
keep_environment =
primary_hostname = client.example
qualify_domain = client.example
spool_directory = {d}/spool
log_file_path = {d}/log/%slog
begin transports
t:
{transport}
"""

MESSAGE = (b"Subject: to dovecot\nFrom: S <s@client.example>\n"
           b"Message-ID: <dovecot-1@client.example>\n\nhello\n.dot line\nlast\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Dovecot:
    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="pexim-dovecot-", dir="/tmp"))
        os.chmod(self.dir, 0o755)
        for sub in ("run", "state", "mail"):
            (self.dir / sub).mkdir()
        os.chown(self.dir / "mail", 8, 8)
        (self.dir / "users").write_text("alice:{PLAIN}x::::::\nbob:{PLAIN}x::::::\n")
        self.port = free_port()
        self.conf = self.dir / "dovecot.conf"
        self.conf.write_text(DOVECOT_CONF.format(d=self.dir, port=self.port))
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        end = time.time() + 15
        while not (self.dir / "lmtp.sock").exists():
            if time.time() > end or self.proc.poll() is not None:
                raise RuntimeError("dovecot did not start: "
                                   + self.proc.stderr.read().decode(errors="replace"))
            time.sleep(0.05)

    def stop(self) -> None:
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def mails(self, user: str) -> list[bytes]:
        new = self.dir / "mail" / user / "new"
        return [p.read_bytes() for p in sorted(new.iterdir())] if new.exists() else []


@pytest.fixture
def dovecot():
    d = Dovecot()
    yield d
    d.stop()


@pytest.fixture
def client_dir():
    d = Path(tempfile.mkdtemp(prefix="pexim-lmtp-client-", dir="/tmp"))
    for sub in ("", "spool", "log"):
        (d / sub).mkdir(exist_ok=True)
        os.chmod(d / sub, 0o777)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def deliver(client_dir: Path, transport: str, recipients: list[str], batch: int = 0,
            hosts=()):
    from pexim.transports import lmtp, smtp

    (client_dir / "conf").write_text(PEXIM_CONF.format(d=client_dir, transport=transport))
    config, msg = pexim_receive(client_dir / "conf", "s@client.example", recipients, MESSAGE)
    module = smtp if "driver = smtp" in transport else lmtp
    addrs = pexim_transport(config, msg, list(hosts), module=module, batch=batch)
    return addrs, msg


def sent_lf(msg) -> bytes:
    """The message as pexim wrote it, LF line ends (as Dovecot stores it)."""
    from pexim.transports.write import write_message

    chunks: list[bytes] = []
    tp = msg.config.transports[0]
    write_message(tp, msg, [], None, chunks.append, return_path=msg.sender)
    return b"".join(chunks)


def check_mailbox(dovecot: Dovecot, user: str, msg) -> None:
    """One message: Dovecot's Return-Path: and Received:, then exactly what we sent."""
    (mail,) = dovecot.mails(user)
    assert mail.startswith(b"Return-Path: <s@client.example>\n")
    assert b"\nReceived: from client.example" in mail and b" with LMTP\n" in mail
    assert mail.endswith(sent_lf(msg))


def test_lmtp_socket_per_recipient(dovecot, client_dir):
    addrs, msg = deliver(client_dir, f"  driver = lmtp\n  socket = {dovecot.dir}/lmtp.sock\n"
                         "  batch_max = 10",
                         ["alice@test.example", "nobody@test.example", "bob@test.example"],
                         batch=10)
    alice, nobody, bob = addrs
    assert (alice.status, bob.status, nobody.status) == ("ok", "ok", "fail")
    assert alice.extra["confirmation"].startswith("250 2.0.0 <alice@test.example> ")
    assert alice.extra["confirmation"].endswith(" Saved")
    assert nobody.message == ("LMTP error after RCPT TO:<nobody@test.example>: 550 5.1.1 "
                              "<nobody@test.example> User doesn't exist: nobody@test.example")
    check_mailbox(dovecot, "alice", msg)
    check_mailbox(dovecot, "bob", msg)


def test_lmtp_command(dovecot, client_dir):
    addrs, msg = deliver(client_dir, f"  driver = lmtp\n  command = {LMTP_BIN} -c "
                         f"{dovecot.conf}", ["bob@test.example"])
    assert addrs[0].status == "ok", addrs[0].message
    check_mailbox(dovecot, "bob", msg)


def test_smtp_transport_speaking_lmtp_over_tcp(dovecot, client_dir):
    from pexim.delivery.address import Host

    addrs, msg = deliver(client_dir, f"  driver = smtp\n  protocol = lmtp\n"
                         f"  port = {dovecot.port}\n  allow_localhost\n",
                         ["alice@test.example", "nobody@test.example"],
                         hosts=[Host("localhost", "127.0.0.1")])
    alice, nobody = addrs
    assert alice.status == "ok", alice.message
    assert alice.extra["confirmation"].startswith("250 2.0.0 <alice@test.example> ")
    assert nobody.status == "fail"
    assert nobody.message == ("SMTP error from remote mail server after RCPT "
                              "TO:<nobody@test.example>: 550 5.1.1 <nobody@test.example> "
                              "User doesn't exist: nobody@test.example")
    check_mailbox(dovecot, "alice", msg)
