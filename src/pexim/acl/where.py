"""Where an ACL runs: Exim's ACL_WHERE_* names, default reply codes and the
result codes shared by the engine and the SMTP session."""

from __future__ import annotations

# Result codes (strings, as ExpandContext.acl_eval uses them).
OK, FAIL, DEFER, ERROR, DISCARD, FAIL_DROP = "OK", "FAIL", "DEFER", "ERROR", "DISCARD", "FAIL_DROP"

RCPT, MAIL, PREDATA, MIME, DKIM, DATA, PRDR = "RCPT", "MAIL", "PREDATA", "MIME", "DKIM", "DATA", "PRDR"
NOTSMTP, AUTH, CONNECT, ETRN, EXPN, HELO = "NOTSMTP", "AUTH", "CONNECT", "ETRN", "EXPN", "HELO"
MAILAUTH, NOTSMTP_START, NOTQUIT, QUIT = "MAILAUTH", "NOTSMTP_START", "NOTQUIT", "QUIT"
STARTTLS, VRFY, DELIVERY, UNKNOWN = "STARTTLS", "VRFY", "DELIVERY", "UNKNOWN"

# acl_wherenames[]: how logs and error messages name each place.
NAMES = {
    RCPT: "RCPT", MAIL: "MAIL", PREDATA: "PREDATA", MIME: "MIME", DKIM: "DKIM",
    DATA: "DATA", PRDR: "PRDR", NOTSMTP: "non-SMTP", AUTH: "AUTH", CONNECT: "connection",
    ETRN: "ETRN", EXPN: "EXPN", HELO: "EHLO or HELO", MAILAUTH: "MAILAUTH",
    NOTSMTP_START: "non-SMTP-start", NOTQUIT: "NOTQUIT", QUIT: "QUIT", STARTTLS: "STARTTLS",
    VRFY: "VRFY", DELIVERY: "delivery", UNKNOWN: "unknown",
}

# acl_wherecodes[]: the default code of a rejection.
CODES = {
    RCPT: "550", MAIL: "550", PREDATA: "550", MIME: "550", DKIM: "550", DATA: "550",
    PRDR: "550", NOTSMTP: "0", AUTH: "503", CONNECT: "550", ETRN: "458", EXPN: "550",
    HELO: "550", MAILAUTH: "0", NOTSMTP_START: "0", NOTQUIT: "0", QUIT: "0",
    STARTTLS: "550", VRFY: "252", DELIVERY: "0", UNKNOWN: "0",
}

SMTP_WHERES = frozenset({RCPT, MAIL, PREDATA, MIME, DKIM, DATA, PRDR, AUTH, CONNECT, ETRN,
                         EXPN, HELO, MAILAUTH, NOTQUIT, QUIT, STARTTLS, VRFY})
MESSAGE_WHERES = frozenset({MAIL, RCPT, PREDATA, DATA, PRDR, MIME, NOTSMTP, DKIM,
                            NOTSMTP_START})


def all_but(*allowed: str) -> frozenset[str]:
    """A forbidden set written as its few allowed places."""
    return frozenset(NAMES) - set(allowed)
