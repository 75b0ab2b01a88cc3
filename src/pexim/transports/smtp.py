"""The smtp transport: SMTP/LMTP over TCP to remote hosts."""

from pexim.config.drivers import DriverError
from pexim.config.options import Option, T

S, B, TIME = T.STRING, T.BOOL, T.TIME
LOCAL = False

OPTIONS = [Option(n, S) for n in (
    "authenticated_sender dane_require_tls_ciphers dkim_canon dkim_domain dkim_identity "
    "dkim_private_key dkim_selector dkim_sign_headers dkim_strict dkim_timestamps "
    "dnssec_require_domains dscp fallback_hosts hosts hosts_avoid_esmtp "
    "hosts_avoid_pipelining hosts_avoid_tls hosts_nopass_tls hosts_noproxy_tls "
    "hosts_pipe_connect hosts_require_alpn hosts_require_auth hosts_require_dane "
    "hosts_require_ocsp hosts_require_tls hosts_try_auth hosts_verify_avoid_tls interface "
    "port serialize_hosts socks_proxy tls_alpn tls_certificate tls_crl tls_privatekey "
    "tls_require_ciphers tls_resumption_hosts tls_sni tls_verify_hosts"
).split()] + [Option(n, S, "*") for n in (
    "dnssec_request_domains hosts_request_ocsp hosts_try_chunking hosts_try_dane "
    "hosts_try_fastopen hosts_try_prdr tls_try_verify_hosts tls_verify_cert_hostnames"
).split()] + [Option(n, B, "false") for n in (
    "allow_localhost authenticated_sender_force dns_search_parents gethostbyname "
    "hosts_override hosts_randomize lmtp_ignore_quota"
).split()] + [Option(n, B, "true") for n in (
    "address_retry_include_sender delay_after_cutoff dns_qualify_single keepalive "
    "tls_tempfail_tryclear"
).split()] + [
    Option("*expand_multi_domain", S, hidden=True),
    Option("*expand_retry_include_ip_address", S, hidden=True),
    Option("command_timeout", TIME, "5m"),
    Option("connect_timeout", TIME, "5m"),
    Option("connection_max_messages", T.INT, "500"),
    Option("data_timeout", TIME, "5m"),
    Option("dkim_hash", S, "sha256"),
    Option("final_timeout", TIME, "10m"),
    Option("helo_data", S, "$primary_hostname"),
    Option("host_name_extract", S, r"${if and {{match{$host}{.outlook.com\$}} "
                                   r"{match{$item}{\N^250-([\w.]+)\s\N}}} {$1}}"),
    Option("hosts_max_try", T.INT, "5"),
    Option("hosts_max_try_hardlimit", T.INT, "50"),
    Option("max_rcpt", T.INT, "100"),
    Option("message_linelength_limit", T.INT, "998"),
    Option("multi_domain", T.EXPAND_BOOL, "true"),
    Option("protocol", S, "smtp"),
    Option("retry_include_ip_address", T.EXPAND_BOOL, "true"),
    Option("size_addition", T.INT, "1024"),
    Option("tls_dh_min_bits", T.INT, "1024"),
    Option("tls_verify_certificates", S, "system"),
    Option("utf8_downconvert", S, "-1"),
]


def derive(inst, v) -> dict:
    """The default port follows the protocol."""
    if v["port"] is None:
        proto = (v["protocol"] or "").lower()
        return {"port": proto if proto in ("lmtp", "smtps") else "smtp"}
    return {}


def check(inst, v) -> None:
    if not (v["command_timeout"] and v["data_timeout"] and v["final_timeout"]):
        raise DriverError(f"command, data, or final timeout value is zero for "
                          f"{inst.name} transport")
