"""Exim 4.96's internal error numbers (ERRNO_* in macros.h) and their retry classes.

They appear in log lines ("defer (-54): retry time not reached for any host")
and decide which retry rule applies, so the values are Exim's.  Checked
against real exim 4.96: a redirect :defer: logs "defer (-1)", a host not yet
due for retry "defer (-54)".
"""

from __future__ import annotations

UNKNOWNERROR = -1
USERSLASH = -2
EXISTRACE = -3
NOTREGULAR = -4
NOTDIRECTORY = -5
BADUGID = -6
BADMODE = -7
INODECHANGED = -8
LOCKFAILED = -9
BADADDRESS2 = -10
FORBIDPIPE = -11
FORBIDFILE = -12
FORBIDREPLY = -13
MISSINGPIPE = -14
MISSINGFILE = -15
MISSINGREPLY = -16
BADREDIRECT = -17
SMTPCLOSED = -18
SMTPFORMAT = -19
SPOOLFORMAT = -20
NOTABSOLUTE = -21
EXIMQUOTA = -22
HELD = -23
FILTER_FAIL = -24
CHHEADER_FAIL = -25
WRITEINCOMPLETE = -26
EXPANDFAIL = -27
GIDFAIL = -28
UIDFAIL = -29
BADTRANSPORT = -30
MBXLENGTH = -31
UNKNOWNHOST = -32
FORMATUNKNOWN = -33
BADCREATE = -34
LISTDEFER = -35
DNSDEFER = -36
TLSFAILURE = -37
TLSREQUIRED = -38
CHOWNFAIL = -39
PIPEFAIL = -40
CALLOUTDEFER = -41
AUTHFAIL = -42
CONNECTTIMEOUT = -43
RCPT4XX = -44
MAIL4XX = -45
DATA4XX = -46
PROXYFAIL = -47
AUTHPROB = -48
UTF8_FWD = -49
HOST_IS_LOCAL = -50
TAINT = -51
# The retry deferments come last.
RETRY_BASE = RRETRY = -52       # not time for routing
LRETRY = -53                    # not time for local delivery
HRETRY = -54                    # not time for any remote host
LOCAL_ONLY = -55
QUEUE_DOMAIN = -56
TRETRY = -57

# more_errno bits for connection errors: the low byte says how the host was found.
RTEF_CTOUT = 0x100
MORE_A, MORE_MX = ord("A"), ord("M")

ECONNREFUSED, ETIMEDOUT = 111, 110


def rule_class(basic_errno: int, more_errno: int) -> tuple[str, object]:
    """(error name, detail) as retry_rules.find_retry_rule matches them."""
    how = "MX" if more_errno & 0xFF == MORE_MX else "A" if more_errno & 0xFF == MORE_A else None
    if basic_errno == ECONNREFUSED:
        return "refused", how
    if basic_errno == ETIMEDOUT or basic_errno == CONNECTTIMEOUT:
        if basic_errno == CONNECTTIMEOUT or more_errno & RTEF_CTOUT:
            return "timeout", "connect" + ("_" + how if how else "")
        return "timeout", None
    if basic_errno == EXIMQUOTA:
        return "quota", more_errno
    if basic_errno in (RCPT4XX, MAIL4XX, DATA4XX):
        name = {RCPT4XX: "rcpt_4xx", MAIL4XX: "mail_4xx", DATA4XX: "data_4xx"}[basic_errno]
        return name, "4%02d" % ((more_errno >> 8) & 0xFF)     # (code % 100) << 8 | A/M
    if basic_errno == SMTPCLOSED:
        return "lost_connection", None
    if basic_errno == AUTHFAIL:
        return "auth_failed", None
    if basic_errno == TLSREQUIRED:
        return "tls_required", None
    return "*", None
