"""The variable table: every name in Exim 4.96's variable index, with how to
get its value from an ``ExpandContext``.

``find(name)`` returns a getter ``(ctx, name) -> str | None`` (None means the
variable is unknown in this state, e.g. $n0 outside a filter), or None when
the name is not a variable at all; callers resolve names once at compile
time.  Values supplied in ``ctx.values`` always win over the defaults here.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Callable

from . import headers

Getter = Callable[[object, str], "str | None"]

EXIM_VERSION = "4.96"
_INITIAL_CWD = os.getcwd()


def _fmt(v: object) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if callable(v):
        v = v()
    return "" if v is None else v if isinstance(v, str) else str(v)


def _plain(default: str) -> Getter:
    def get(ctx, name, _d=default):
        v = ctx.values.get(name)
        return _d if v is None else _fmt(v)
    return get


def _alias(target: str, default: str = "") -> Getter:
    def get(ctx, name, _t=target, _d=default):
        v = ctx.values.get(name)
        if v is None:
            v = ctx.values.get(_t)
        return _d if v is None else _fmt(v)
    return get


def _size_text(v: object) -> str:
    """Main-option integers may arrive as text with K/M/G suffixes."""
    if isinstance(v, int):
        return str(v)
    s = str(v).strip()
    mult = {"k": 1024, "m": 1024 * 1024, "g": 1024 ** 3}.get(s[-1:].lower())
    if mult and s[:-1].lstrip("-").isdigit():
        return str(int(s[:-1]) * mult)
    return s


def primary_hostname(ctx) -> str:
    v = ctx.values.get("primary_hostname")
    if v is None:
        v = ctx.main_option("primary_hostname")
    if v is None:
        v = socket.getfqdn()
    return _fmt(v)


def _primary(ctx, name):
    return primary_hostname(ctx)


def _qualify_domain(ctx, name=None):
    v = ctx.values.get("qualify_domain")
    if v is None:
        v = ctx.main_option("qualify_domain")
    return _fmt(v) if v else primary_hostname(ctx)


def _qualify_recipient(ctx, name):
    v = ctx.values.get("qualify_recipient")
    if v is None:
        v = ctx.main_option("qualify_recipient")
    return _fmt(v) if v else _qualify_domain(ctx)


def _main(option: str, default: str) -> Getter:
    def get(ctx, name, _o=option, _d=default):
        v = ctx.values.get(name)
        if v is None:
            v = ctx.main_option(_o)
        return _d if v is None else _size_text(v)
    return get


def _smtp_active_hostname(ctx, name):
    v = ctx.values.get(name)
    return _fmt(v) if v is not None else primary_hostname(ctx)


def _sender_part(part: str) -> Getter:
    def get(ctx, name, _p=part):
        v = ctx.values.get(name)
        if v is not None:
            return _fmt(v)
        addr = _fmt(ctx.values.get("sender_address"))
        at = addr.rfind("@")
        if _p == "domain":
            return addr[at + 1:] if at >= 0 else ""
        return addr[:at] if at >= 0 else addr
    return get


def _acl_arg(ctx, name):
    n = int(name[7:])
    args = ctx.acl_args
    return args[n - 1] if n <= len(args) and args[n - 1] is not None else ""


def _acl_narg(ctx, name):
    return str(sum(1 for a in ctx.acl_args if a is not None))


def _value(ctx, name):
    return ctx.value or ""


def _item(ctx, name):
    return ctx.item or ""


def _runrc(ctx, name):
    return str(ctx.runrc)


def _prvscheck(ctx, name):
    return ctx.prvscheck.get(name) or ""


def _filter_int(ctx, name):
    if not ctx.filter_running:
        return None
    return _fmt(ctx.values.get(name, 0))


def _pid(ctx, name):
    return str(os.getpid())


def _uid(ctx, name):
    v = ctx.values.get(name)
    return _fmt(v) if v is not None else str(os.getuid() if name.endswith("uid") else os.getgid())


def _load_average(ctx, name):
    try:
        return str(int(os.getloadavg()[0] * 1000))
    except OSError:
        return "-1"


def _statvfs(which: str, inodes: bool) -> Getter:
    def get(ctx, name, _w=which, _i=inodes):
        v = ctx.values.get(name)
        if v is not None:
            return _fmt(v)
        if _w == "spool":
            path = _main("spool_directory", "/var/spool/exim4")(ctx, "spool_directory")
        else:
            lfp = ctx.main_option("log_file_path") or ""
            path = os.path.dirname(str(lfp).split(":")[0]) or "/var/log/exim4"
        try:
            st = os.statvfs(path)
        except OSError:
            return "-1"
        return str(st.f_favail if _i else st.f_bavail * st.f_frsize // 1024)
    return get


def _tod(kind: str) -> Getter:
    def get(ctx, name, _k=kind):
        v = ctx.values.get(name)
        return _fmt(v) if v is not None else tod(_k)
    return get


def tod(kind: str, now: float | None = None) -> str:
    """Exim's time-of-day formats (tod_stamp)."""
    t = time.time() if now is None else now
    lt = time.localtime(t)
    off = lt.tm_gmtoff // 60
    zone = "%s%02d%02d" % ("-" if off < 0 else "+", abs(off) // 60, abs(off) % 60)
    if kind == "epoch":
        return str(int(t))
    if kind == "epoch_l":
        return "%d%06d" % (int(t), int((t - int(t)) * 1e6))
    if kind == "full":
        return time.strftime("%a, %d %b %Y %H:%M:%S ", lt) + zone
    if kind == "log":
        return time.strftime("%Y-%m-%d %H:%M:%S", lt)
    if kind == "logfile":
        return time.strftime("%Y%m%d", lt)
    if kind == "zone":
        return zone
    if kind == "zulu":
        return time.strftime("%Y%m%d%H%M%SZ", time.gmtime(t))
    if kind == "bsdinbox":
        s = time.strftime("%a %b %d %H:%M:%S %Y", lt)
        return s[:8] + (" " + s[9:10] if s[8] == "0" else s[8:10]) + s[10:]
    raise ValueError(kind)


def _initial_cwd(ctx, name):
    v = ctx.values.get(name)
    return _fmt(v) if v is not None else _INITIAL_CWD


def _message(fn: Callable) -> Getter:
    def get(ctx, name, _f=fn):
        v = ctx.values.get(name)
        if v is not None:
            return _fmt(v)
        return _f(ctx, name)
    return get


# Names whose unset value is not the empty string.
_ZERO = """acl_narg authentication_failed av_failed body_linecount body_zerocount
dkim_key_length dkim_created dkim_key_nosubdomains event_defer_errno host_lookup_deferred
host_lookup_failed host_port inode localhost_number max_received_linelength message_age
message_body_size message_linecount message_size mime_anomaly_level mime_content_size
mime_is_coverletter mime_is_multipart mime_is_rfc822 proxy_external_port proxy_local_port
rcpt_count rcpt_defer_count rcpt_fail_count received_count received_time recipients_count
sender_host_port smtp_count_at_connection_start tls_bits tls_certificate_verified tls_in_bits
tls_in_certificate_verified tls_in_ocsp tls_in_resumption tls_out_bits
tls_out_certificate_verified tls_out_ocsp tls_out_resumption tls_out_tlsa_usage""".split()
_MINUS1 = "interface_port received_port sending_port mime_part_count".split()
_NO = """message_smtputf8 prdr_requested proxy_session sender_helo_dnssec sender_host_dnssec
spf_result_guessed tls_out_dane""".split()
_EMPTY = """acl_verify_message address_data address_file address_pipe authenticated_fail_id
authenticated_id authenticated_sender bounce_recipient callout_address csa_status dkim_algo
dkim_canon_body dkim_canon_headers dkim_copiedheaders dkim_cur_signer dkim_domain
dkim_headernames dkim_identity dkim_key_notes dkim_selector dkim_signers dkim_verify_reason
dkim_verify_status dnslist_domain dnslist_matched dnslist_text dnslist_value domain
domain_data event_data event_name home host host_address host_data interface_address
ldap_dn local_part local_part_data local_part_prefix local_part_prefix_v local_part_suffix
local_part_suffix_v local_scan_data lookup_dnssec_authenticated mailstore_basename
malware_name message_exim_id message_id mime_anomaly_text mime_boundary mime_charset
mime_content_description mime_content_disposition mime_content_id
mime_content_transfer_encoding mime_content_type mime_decoded_filename mime_filename
original_domain original_local_part parent_domain parent_local_part proxy_external_address
proxy_local_address queue_name queue_size
received_for received_protocol recipient_data recipient_verify_failure regex_match_string
return_path router_name self_hostname sender_address sender_address_data sender_data
sender_fullhost sender_helo_name sender_host_address sender_host_authenticated
sender_host_name sender_ident sender_rate sender_rate_limit sender_rate_period sender_rcvhost
sender_verify_failure sending_ip_address smtp_command smtp_command_argument
smtp_command_history smtp_notquit_reason spam_action spam_bar spam_report spam_score
spam_score_int spf_header_comment spf_received spf_result spf_smtp_comment srs_recipient
thisaddress tls_cipher tls_in_cipher tls_in_cipher_std tls_in_ourcert tls_in_peercert
tls_in_peerdn tls_in_sni tls_in_ver tls_out_cipher tls_out_cipher_std tls_out_ourcert
tls_out_peercert tls_out_peerdn tls_out_sni tls_out_ver tls_peerdn tls_sni transport_name
verify_mode warn_message_delay warn_message_recipients warnmsg_delay warnmsg_recipient
warnmsg_recipients config_dir config_file exim_path""".split()

TABLE: dict[str, Getter] = {}
for _n in _EMPTY:
    TABLE[_n] = _plain("")
for _n in _ZERO:
    TABLE[_n] = _plain("0")
for _n in _MINUS1:
    TABLE[_n] = _plain("-1")
for _n in _NO:
    TABLE[_n] = _plain("no")
for _i in range(1, 10):
    TABLE["acl_arg%d" % _i] = _acl_arg
for _i in range(10):
    TABLE["n%d" % _i] = _filter_int
    TABLE["sn%d" % _i] = _filter_int

TABLE.update({
    "acl_narg": _acl_narg,
    "bounce_return_size_limit": _main("bounce_return_size_limit", "102400"),
    "return_size_limit": _main("bounce_return_size_limit", "102400"),
    "caller_gid": _uid, "caller_uid": _uid, "originator_gid": _uid, "originator_uid": _uid,
    "compile_date": _plain("27-May-2026 16:52:26"),
    "compile_number": _plain("2"),
    "dkim_bodylength": _plain("9999999999999"),
    "dkim_expires": _plain("9999999999999"),
    "dkim_key_granularity": _plain("*"),
    "dkim_key_srvtype": _plain("*"),
    "dkim_key_testing": _plain("0"),
    "exim_gid": _plain("105"), "exim_uid": _plain("102"),
    "exim_version": _plain(EXIM_VERSION), "version_number": _plain(EXIM_VERSION),
    "headers_added": _message(headers.headers_added),
    "initial_cwd": _initial_cwd,
    "item": _item,
    "load_average": _load_average,
    "local_user_gid": _plain("4294967295"), "local_user_uid": _plain("4294967295"),
    "log_inodes": _statvfs("log", True), "log_space": _statvfs("log", False),
    "spool_inodes": _statvfs("spool", True), "spool_space": _statvfs("spool", False),
    "message_body": _message(headers.message_body),
    "message_body_end": _message(headers.message_body_end),
    "message_headers": _message(headers.message_headers),
    "message_headers_raw": _message(headers.message_headers_raw),
    "pid": _pid,
    "primary_hostname": _primary,
    "prvscheck_address": _prvscheck, "prvscheck_keynum": _prvscheck,
    "prvscheck_result": _prvscheck,
    "qualify_domain": _qualify_domain, "qualify_recipient": _qualify_recipient,
    "received_ip_address": _alias("interface_address"),
    "received_port": _alias("interface_port", "-1"),
    "recipients": _message(headers.recipients),
    "reply_address": _message(headers.reply_address),
    "runrc": _runrc,
    "sender_address_domain": _sender_part("domain"),
    "sender_address_local_part": _sender_part("local_part"),
    "smtp_active_hostname": _smtp_active_hostname,
    "spf_guess": _main("spf_guess", "v=spf1 a/24 mx/24 ptr ?all"),
    "spool_directory": _main("spool_directory", "/var/spool/exim4"),
    "tls_bits": _alias("tls_in_bits", "0"),
    "tls_certificate_verified": _alias("tls_in_certificate_verified", "0"),
    "tls_cipher": _alias("tls_in_cipher"), "tls_peerdn": _alias("tls_in_peerdn"),
    "tls_sni": _alias("tls_in_sni"),
    "tod_bsdinbox": _tod("bsdinbox"), "tod_epoch": _tod("epoch"),
    "tod_epoch_l": _tod("epoch_l"), "tod_full": _tod("full"), "tod_log": _tod("log"),
    "tod_logfile": _tod("logfile"), "tod_zone": _tod("zone"), "tod_zulu": _tod("zulu"),
    "value": _value,
    "warn_message_recipient": _alias("warn_message_recipients"),
    "warnmsg_recipient": _alias("warnmsg_recipients"),
})

CERT_VARIABLES = frozenset(
    {"tls_in_ourcert", "tls_in_peercert", "tls_out_ourcert", "tls_out_peercert"})


def _acl_var(ctx, name):
    store = ctx.acl_c if name[4] == "c" else ctx.acl_m
    v = store.get(name)
    if v is None:
        return None if ctx.strict_acl_vars else ""
    return v


def _router_var(ctx, name):
    v = ctx.values.get(name)
    if v is None:
        return None if ctx.strict_acl_vars else ""
    return _fmt(v)


def _indexed(prefix: str, limit: int) -> Getter:
    def get(ctx, name, _p=prefix):
        v = ctx.values.get(name)
        return "" if v is None else _fmt(v)
    return get


_AUTH = _indexed("auth", 3)
_REGEX = _indexed("regex", 9)


def find(name: str) -> Getter | None:
    """The getter for variable ``name``, or None if Exim has no such variable."""
    if name.startswith(("acl_c", "acl_m")) and not name[5:6].isalpha():
        return _acl_var
    if name.startswith("r_"):
        return _router_var
    if name.startswith("auth"):
        n = name[4:]
        if n.isdigit() and 0 < int(n) <= 4:
            return _AUTH
    elif name.startswith("regex"):
        n = name[5:]
        if n.isdigit() and 0 < int(n) <= 9:
            return _REGEX
    return TABLE.get(name)


def unknown_suffix(name: str) -> str:
    """Exim's extra explanation for unknown names that look like ACL variables."""
    if not name.startswith("acl_"):
        return ""
    if name[4:5] in ("c", "m"):
        if name[5:6].isalpha():
            return " (6th character of a user-defined ACL variable must be a digit or underscore)"
        return " (strict_acl_vars is set)"
    return " (user-defined ACL variables must start acl_c or acl_m)"
