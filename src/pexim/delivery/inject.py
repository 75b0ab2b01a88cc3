"""Spool a message that pexim itself generated (bounce, delay warning, DSN).

Exim hands these to a child ``exim -t -oem -oi -f <> -E<parent id>`` running
as the Exim user; the child receives it like any local submission by a
trusted caller: protocol "local", a Received: header naming the Exim user,
Message-Id:/Date: fix-ups, ``-localerror`` (and bounce_sender_authentication
as ``-auth_sender``) in the -H file and the arrival line ``<= <> R=<parent id> U=<exim user> P=local S=<size>``.  ``inject`` does
the same through the one receiving path (smtp/receive.py) in this process.
It only spools: the caller delivers the new message (its id is returned)
unless queue_only says otherwise.
"""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass

from pexim.expand import ExpandContext, Tainted
from pexim.expand.variables import primary_hostname
from pexim.message.envelope import HTYPE_BCC, HTYPE_OLD, Recipient
from pexim.message.headers import Submission, apply_local_fixups
from pexim.smtp.receive import Incoming, Receiver


@dataclass
class GeneratedMessage:
    """A message pexim composed: envelope and the text (headers, blank line,
    body; LF line ends)."""

    sender: str                # "" for bounces, warnings and DSNs
    recipients: list[str]
    data: bytes


class _WithReference:
    """The logger, with "R=<parent id>" put into the arrival line as the child's
    -E option makes Exim do."""

    def __init__(self, logger, sender: str, parent_id: str):
        self._logger = logger
        self._prefix = "<= " + (sender or "<>")
        self._parent = parent_id

    def main(self, text: str, message_id: str | None = None, *args, **kw):
        if text.startswith(self._prefix + " "):
            text = "%s R=%s%s" % (self._prefix, self._parent, text[len(self._prefix):])
        return self._logger.main(text, message_id, *args, **kw)

    def __getattr__(self, name):
        return getattr(self._logger, name)


class _ChildReceiver(Receiver):
    """-oem: the spooled message is marked -localerror (errors in it are
    reported, not bounced)."""

    def _message(self, *args, **kw):
        msg = super()._message(*args, **kw)
        msg.localerror = True
        return msg


def _identity(owner: tuple[int, int] | None) -> tuple[str, int, int]:
    """Who the child runs as: the Exim user when we have one, else this process."""
    uid, gid = owner if owner is not None else (os.getuid(), os.getgid())
    try:
        login = pwd.getpwuid(uid).pw_name
    except KeyError:
        login = str(uid)
    return login, uid, gid


def inject(config, gen: GeneratedMessage, logger, *, parent_id: str | None,
           owner: tuple[int, int] | None = None) -> str:
    """Spool ``gen`` as Exim's bounce child would; returns the new message id."""
    login, uid, gid = _identity(owner)
    ctx = ExpandContext(config=config)
    hostname = primary_hostname(ctx)
    qualify = str(config.main.get("qualify_domain") or hostname)

    def fixups(headers, msgid, now):
        for h in headers:                       # -t: Bcc: lines are not kept
            if h.type == HTYPE_BCC:
                h.type = HTYPE_OLD
        sub = Submission(msgid, hostname, qualify, gen.sender, login, "", trusted=True,
                         sender_forced=True)
        apply_local_fixups(headers, sub, now)

    lines = gen.data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    # bounce_sender_authentication goes to the child as -oMas (a tainted value).
    auth = config.main.get("bounce_sender_authentication") if not gen.sender else None
    inc = Incoming(sender=gen.sender, recipients=[Recipient(r) for r in gen.recipients],
                   lines=lines, protocol="local", ident=login, originator=(login, uid, gid),
                   auth=(None, Tainted(str(auth))) if auth else None,
                   allow_unqualified=True, extra={"fixups": fixups})
    log = _WithReference(logger, gen.sender, parent_id) if parent_id else logger
    receiver = _ChildReceiver(config, log, owner=owner)
    try:
        outcome = receiver.accept(ctx, inc)
    finally:
        receiver.close()
    return outcome.message_id
