"""Exim's predefined macros (`_HAVE_*`, `_DRIVER_*`, `_OPT_*`, `_LOG_*`, `_ACL_*`).

They let one configuration serve builds with different features (`.ifdef
_HAVE_DKIM`). Option and driver macros come from the option tables, so they
always match what pexim accepts; `-bP macros` lists them in Exim's order
(newest first within each group).
"""

from __future__ import annotations

from functools import cache

from pexim.config import drivers
from pexim.config.model import Macro

DKIM_SIGN_HEADERS = (
    'From:Sender:Reply-To:Subject:Date:Message-ID:To:Cc:MIME-Version:Content-Type:Content-Transfer-Encoding:Content-ID:Content-Description:Resent-Date:Resent-From:Resent-Sender:Resent-To:Resent-Cc:Resent-Message-ID:In-Reply-To:References:List-Id:List-Help:List-Unsubscribe:List-Subscribe:List-Post:List-Owner:List-Archive')

RESUME_DECODE = (
    'not requested or offered : 0x02 :client requested, no server ticket: 0x04 : 0x05 : 0x06 :client offered session, no server action: 0x08 :no client request: 0x0A :client requested new ticket, server provided: 0x0C :client offered session, not used: 0x0E :client offered session, server only provided new ticket: 0x10 :session resumed unasked: 0x12 :session resumed unasked: 0x14 : 0x15 : 0x16 :session resumed: 0x18 :session resumed unasked: 0x1A :session resumed unasked: 0x1C :session resumed: 0x1E :session resumed, also new ticket')

# Log selector names (log_selector), ACL conditions and modifiers, and the
# build features pexim accepts configuration for.
LOG_SELECTORS = (
    '8bitmime', 'acl_warn_skipped', 'address_rewrite', 'all', 'all_parents', 'arguments',
    'connection_reject', 'delay_delivery', 'deliver_time', 'delivery_size', 'dkim',
    'dkim_verbose', 'dnslist_defer', 'dnssec', 'etrn', 'host_lookup_failed', 'ident_timeout',
    'incoming_interface', 'incoming_port', 'lost_incoming_connection', 'millisec', 'msg_id',
    'msg_id_created', 'outgoing_interface', 'outgoing_port', 'pid', 'pipelining',
    'protocol_detail', 'proxy', 'queue_run', 'queue_time', 'queue_time_exclusive',
    'queue_time_overall', 'receive_time', 'received_recipients', 'received_sender',
    'rejected_header', 'rejected_headers', 'retry_defer', 'return_path_on_delivery',
    'sender_on_delivery', 'sender_verify_fail', 'size_reject', 'skip_delivery',
    'smtp_confirmation', 'smtp_connection', 'smtp_incomplete_transaction', 'smtp_mailauth',
    'smtp_no_mail', 'smtp_protocol_error', 'smtp_syntax_error', 'subject',
    'tls_certificate_verified', 'tls_cipher', 'tls_peerdn', 'tls_resumption', 'tls_sni',
    'unknown_in_list',
)
ACL_NAMES = (
    '_ACL_COND_ACL', '_ACL_MOD_ADD_HEADER', '_ACL_COND_AUTHENTICATED', '_ACL_COND_CONDITION',
    '_ACL_MOD_CONTINUE', '_ACL_MOD_CONTROL', '_ACL_COND_DECODE', '_ACL_MOD_DELAY',
    '_ACL_COND_DKIM_SIGNERS', '_ACL_COND_DKIM_STATUS', '_ACL_COND_DNSLISTS',
    '_ACL_COND_DOMAINS', '_ACL_COND_ENCRYPTED', '_ACL_MOD_ENDPASS', '_ACL_COND_HOSTS',
    '_ACL_COND_LOCAL_PARTS', '_ACL_MOD_LOG_MESSAGE', '_ACL_MOD_LOG_REJECT_TARGET',
    '_ACL_MOD_LOGWRITE', '_ACL_COND_MALWARE', '_ACL_MOD_MESSAGE', '_ACL_COND_MIME_REGEX',
    '_ACL_MOD_QUEUE', '_ACL_COND_RATELIMIT', '_ACL_COND_RECIPIENTS', '_ACL_COND_REGEX',
    '_ACL_MOD_REMOVE_HEADER', '_ACL_COND_SEEN', '_ACL_COND_SENDER_DOMAINS',
    '_ACL_COND_SENDERS', '_ACL_MOD_SET', '_ACL_COND_SPAM', '_ACL_COND_SPF',
    '_ACL_COND_SPF_GUESS', '_ACL_MOD_UDPSEND', '_ACL_COND_VERIFY',
)
# Build features, in the order Exim creates their macros. pexim presents the
# feature set of Debian's exim4-daemon-heavy (a GnuTLS build, so GnuTLS-style
# configurations take the same .ifdef branches) less what it will not provide
# (Perl, PAM, dlfunc, SOCKS, LDAP/MySQL/NIS/PgSQL lookups, malware
# scanning), plus the LMDB and Redis lookups.
HAVE = (
    "CRYPTEQ", "ICONV", "IPV6", "TLS", "GNUTLS", "DKIM", "DNSSEC", "EVENT", "I18N", "OCSP",
    "PIPE_CONNECT", "PRDR", "PROXY", "NATIVE_SRS", "TCP_FASTOPEN", "SPF", "SRS", "DANE",
    "TLS_RESUME", "LOOKUP_LSEARCH", "LOOKUP_CDB", "LOOKUP_DBM", "LOOKUP_DNSDB", "LOOKUP_DSEARCH",
    "LOOKUP_JSON", "LOOKUP_LMDB", "LOOKUP_PASSWD", "LOOKUP_REDIS", "LOOKUP_SQLITE",
    "TRANSPORT_APPEND_MAILDIR", "TRANSPORT_APPEND_MAILSTORE", "TRANSPORT_APPEND_MBX",
)
CRYPTO = ("_CRYPTO_SIGN_ED25519", "_CRYPTO_HASH_SHA3")
TLS_LATE = ("TLS1_3", "TLS_OCSP", "TLS_OCSP_LIST", "TLS_CA_CACHE", "TLS_ALPN")

_KIND_GROUPS = (("router", "ROUTER"), ("transport", "TRANSPORT"),
                ("authenticator", "AUTHENTICATOR"))


def _option_macros(prefix: str, options) -> list[str]:
    return [f"{prefix}_{o.name.upper()}" for o in options if not o.name.startswith("*")]


def _creation_order() -> list[tuple[str, str]]:
    """(name, value) in the order Exim defines them; it lists them newest first."""
    from pexim.config.loader import main_table

    flags = [f"_HAVE_{h}" for h in HAVE] + list(ACL_NAMES) + list(CRYPTO)
    flags += _option_macros("_OPT_MAIN", main_table().options)
    for kind, word in _KIND_GROUPS:
        flags += _option_macros(f"_OPT_{word}S", drivers.generic_table(kind).options)
        for d in drivers.driver_names(kind):
            flags.append(f"_DRIVER_{word}_{d.upper()}")
            flags += _option_macros(f"_OPT_{word}_{d.upper()}",
                                    drivers.private_options(kind, d))
    flags += [f"_LOG_{s.upper()}" for s in LOG_SELECTORS]
    made = [(name, "y") for name in flags]
    made.append(("_RESUME_DECODE", RESUME_DECODE))
    made += [(f"_HAVE_{h}", "y") for h in TLS_LATE]
    made.append(("_DKIM_SIGN_HEADERS", DKIM_SIGN_HEADERS))
    made.append(("_DKIM_OVERSIGN_HEADERS", "+" + DKIM_SIGN_HEADERS.replace(":", ":+")))
    return made


@cache
def builtin_macros() -> tuple[Macro, ...]:
    """All predefined macros, in the order Exim lists them (`-bP macros`)."""
    return tuple(Macro(n, v, builtin=True) for n, v in reversed(_creation_order()))
