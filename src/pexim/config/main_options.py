"""Every main-section option Exim 4.96 knows (Debian's exim4-daemon-heavy build).

The list is in Exim's table order (sorted by name, `*` internals first), which
is the order `-bP` prints. It includes the options Exim flags hidden: the
`*set_<name>` companions of the uid/gid options and the synonyms
`daemon_smtp_port` and `return_size_limit`. Defaults are configuration text;
build- and host-dependent ones come from `pexim.build` or are derived after
reading (primary_hostname, qualify_domain, qualify_recipient, exim_path,
process_log_path), as Exim derives them.

Types were taken from the real binary's behaviour (error texts and `-bP`
output for probe values), so they match this build rather than the manual.

`supported` is False everywhere except `exim_version`, which only reports a
value: the behaviour behind each option lands with later work, and a
configuration that sets an unsupported option must be refused by the modes that
need it rather than silently accepted.
"""

from __future__ import annotations

from dataclasses import replace

from pexim import EXIM_VERSION, build
from pexim.config.options import Option, T

S = T.STRING
B = T.BOOL

# Exim's default Received: header, as quoted configuration text (with \n and \t escapes).
_RECEIVED_HEADER_TEXT = (
    '"Received: ${if def:sender_rcvhost {from $sender_rcvhost\\n\\t}'
    "{${if def:sender_ident {from ${quote_local_part:$sender_ident} }}"
    "${if def:sender_helo_name {(helo=$sender_helo_name)\\n\\t}}}}by $primary_hostname ${if def:received_protocol {with $received_protocol }}"
    "${if def:tls_in_ver        { ($tls_in_ver)}}${if def:tls_in_cipher_std { tls $tls_in_cipher_std\\n\\t}}"
    "(Exim $version_number)\\n\\t${if def:sender_address {(envelope-from <$sender_address>)\\n\\t}}"
    "id $message_exim_id${if def:received_for {\\n\\tfor $received_for}}"
    '"'
)

MAIN_OPTIONS: list[Option] = [
    Option("*set_exim_group", B, "false", hidden=True),
    Option("*set_exim_user", B, "false", hidden=True),
    Option("*set_system_filter_group", B, "false", hidden=True),
    Option("*set_system_filter_user", B, "false", hidden=True),
    Option("accept_8bitmime", B, "true"),
    Option("acl_not_smtp", S),
    Option("acl_not_smtp_mime", S),
    Option("acl_not_smtp_start", S),
    Option("acl_smtp_auth", S),
    Option("acl_smtp_connect", S),
    Option("acl_smtp_data", S),
    Option("acl_smtp_data_prdr", S, "accept"),
    Option("acl_smtp_dkim", S),
    Option("acl_smtp_etrn", S),
    Option("acl_smtp_expn", S),
    Option("acl_smtp_helo", S),
    Option("acl_smtp_mail", S),
    Option("acl_smtp_mailauth", S),
    Option("acl_smtp_mime", S),
    Option("acl_smtp_notquit", S),
    Option("acl_smtp_predata", S),
    Option("acl_smtp_quit", S),
    Option("acl_smtp_rcpt", S),
    Option("acl_smtp_starttls", S),
    Option("acl_smtp_vrfy", S),
    Option("add_environment", S),
    Option("admin_groups", T.GIDLIST),
    Option("allow_domain_literals", B, "false"),
    Option("allow_mx_to_ip", B, "false"),
    Option("allow_utf8_domains", B, "false"),
    Option("auth_advertise_hosts", S, "*"),
    Option("auto_thaw", T.TIME, "0s"),
    Option("av_scanner", S, "sophie:/var/run/sophie"),
    Option("bi_command", S),
    Option("bounce_message_file", S),
    Option("bounce_message_text", S),
    Option("bounce_return_body", B, "true"),
    Option("bounce_return_linesize_limit", T.MKINT, "998"),
    Option("bounce_return_message", B, "true"),
    Option("bounce_return_size_limit", T.MKINT, "100K"),
    Option("bounce_sender_authentication", S),
    Option("callout_domain_negative_expire", T.TIME, "3h"),
    Option("callout_domain_positive_expire", T.TIME, "1w"),
    Option("callout_negative_expire", T.TIME, "2h"),
    Option("callout_positive_expire", T.TIME, "1d"),
    Option("callout_random_local_part", S, "$primary_hostname-$tod_epoch-testing"),
    Option("check_log_inodes", T.INT, "100"),
    Option("check_log_space", T.KINT, "10M"),
    Option("check_rfc2047_length", B, "true"),
    Option("check_spool_inodes", T.INT, "100"),
    Option("check_spool_space", T.KINT, "10M"),
    Option("chunking_advertise_hosts", S, "*"),
    Option("commandline_checks_require_admin", B, "false"),
    Option("daemon_smtp_port", S, hidden=True, alias="daemon_smtp_ports"),
    Option("daemon_smtp_ports", S, "smtp"),
    Option("daemon_startup_retries", T.INT, "9"),
    Option("daemon_startup_sleep", T.TIME, "30s"),
    Option("debug_store", B, "false"),
    Option("delay_warning", T.TIMELIST, "1d"),
    Option("delay_warning_condition", S, "${if or {{ !eq{$h_list-id:$h_list-post:$h_list-subscribe:}{} }{ match{$h_precedence:}{(?i)bulk|list|junk} }{ match{$h_auto-submitted:}{(?i)auto-generated|auto-replied} }} {no}{yes}}"),
    Option("deliver_drop_privilege", B, "false"),
    Option("deliver_queue_load_max", T.FIXED),
    Option("delivery_date_remove", B, "true"),
    Option("disable_ipv6", B, "false"),
    Option("dkim_verify_hashes", S, "sha256:sha512"),
    Option("dkim_verify_keytypes", S, "ed25519:rsa"),
    Option("dkim_verify_min_keysizes", S, "rsa=1024 ed25519=250"),
    Option("dkim_verify_minimal", B, "false"),
    Option("dkim_verify_signers", S, "$dkim_signers"),
    Option("dns_again_means_nonexist", S),
    Option("dns_check_names_pattern", S, r"(?i)^(?>(?(1)\.|())[^\W](?>[a-z0-9/_-]*[^\W])?)+(\.?)$"),
    Option("dns_cname_loops", T.INT, "1"),
    Option("dns_csa_search_limit", T.INT, "5"),
    Option("dns_csa_use_reverse", B, "true"),
    Option("dns_dnssec_ok", T.INT, "-1"),
    Option("dns_ipv4_lookup", S),
    Option("dns_retrans", T.TIME, "0s"),
    Option("dns_retry", T.INT, "0"),
    Option("dns_trust_aa", S),
    Option("dns_use_edns0", T.INT, "-1"),
    Option("drop_cr", B, "false"),
    Option("dsn_advertise_hosts", S),
    Option("dsn_from", S, "Mail Delivery System <Mailer-Daemon@$qualify_domain>"),
    Option("envelope_to_remove", B, "true"),
    Option("errors_copy", S),
    Option("errors_reply_to", S),
    Option("event_action", S),
    Option("exim_group", T.GID, build.EXIM_GROUP),
    Option("exim_path", S, derive=lambda s: build.exim_path()),
    Option("exim_user", T.UID, build.EXIM_USER),
    Option("exim_version", S, EXIM_VERSION, supported=True),
    Option("extra_local_interfaces", S),
    Option("extract_addresses_remove_arguments", B, "true"),
    Option("finduser_retries", T.INT, "0"),
    Option("freeze_tell", S),
    Option("gecos_name", S),
    Option("gecos_pattern", S),
    Option("gnutls_allow_auto_pkcs11", B, "false"),
    Option("gnutls_compat_mode", B, "false"),
    Option("header_line_maxsize", T.INT, "0"),
    Option("header_maxsize", T.INT, "1048576"),
    Option("headers_charset", S, "UTF-8"),
    Option("helo_accept_junk_hosts", S),
    Option("helo_allow_chars", S),
    Option("helo_lookup_domains", S, "@ : @[]"),
    Option("helo_try_verify_hosts", S),
    Option("helo_verify_hosts", S),
    Option("hold_domains", S),
    Option("host_lookup", S),
    Option("host_lookup_order", S, "bydns:byaddr"),
    Option("host_reject_connection", S),
    Option("hosts_connection_nolog", S),
    Option("hosts_proxy", S),
    Option("hosts_require_alpn", S),
    Option("hosts_require_helo", S, "*"),
    Option("hosts_treat_as_local", S),
    Option("ignore_bounce_errors_after", T.TIME, "10w"),
    Option("ignore_fromline_hosts", S),
    Option("ignore_fromline_local", B, "false"),
    Option("keep_environment", S),
    Option("keep_malformed", T.TIME, "4d"),
    Option("ldap_ca_cert_dir", S),
    Option("ldap_ca_cert_file", S),
    Option("ldap_cert_file", S),
    Option("ldap_cert_key", S),
    Option("ldap_cipher_suite", S),
    Option("ldap_default_servers", S),
    Option("ldap_require_cert", S),
    Option("ldap_start_tls", B, "false"),
    Option("ldap_version", T.INT, "-1"),
    Option("local_from_check", B, "true"),
    Option("local_from_prefix", S),
    Option("local_from_suffix", S),
    Option("local_interfaces", S, "<; ::0 ; 0.0.0.0"),
    Option("local_scan_path", S),
    Option("local_scan_timeout", T.TIME, "5m"),
    Option("local_sender_retain", B, "false"),
    Option("localhost_number", S),
    Option("log_file_path", S, build.LOG_FILE_PATH),
    Option("log_selector", S),
    Option("log_timezone", B, "false"),
    Option("lookup_open_max", T.INT, "25"),
    Option("max_username_length", T.INT, "0"),
    Option("message_body_newlines", B, "false"),
    Option("message_body_visible", T.MKINT, "500"),
    Option("message_id_header_domain", S),
    Option("message_id_header_text", S),
    Option("message_logs", B, "true"),
    Option("message_size_limit", S, "50M"),
    Option("move_frozen_messages", B, "false"),
    Option("mua_wrapper", B, "false"),
    Option("mysql_servers", S),
    Option("never_users", T.UIDLIST),
    Option("notifier_socket", S, "$spool_directory/exim_daemon_notify"),
    Option("openssl_options", S),
    Option("percent_hack_domains", S),
    Option("perl_at_start", B, "false"),
    Option("perl_startup", S),
    Option("perl_taintmode", B, "false"),
    Option("pgsql_servers", S),
    Option("pid_file_path", S, build.PID_FILE_PATH),
    Option("pipelining_advertise_hosts", S, "*"),
    Option("pipelining_connect_advertise_hosts", S, "*"),
    Option("prdr_enable", B, "false"),
    Option("preserve_message_logs", B, "false"),
    Option("primary_hostname", S, derive=lambda s: build.primary_hostname()),
    Option("print_topbitchars", B, "false"),
    Option("process_log_path", S,
           derive=lambda s: s.get("spool_directory") + "/exim-process.info"),
    Option("prod_requires_admin", B, "true"),
    Option("proxy_protocol_timeout", T.TIME, "3s"),
    Option("qualify_domain", S, derive=lambda s: s.get("primary_hostname")),
    Option("qualify_recipient", S, derive=lambda s: s.get("qualify_domain")),
    Option("queue_domains", S),
    Option("queue_fast_ramp", B, "false"),
    Option("queue_list_requires_admin", B, "true"),
    Option("queue_only", B, "false"),
    Option("queue_only_file", S),
    Option("queue_only_load", T.FIXED),
    Option("queue_only_load_latch", B, "true"),
    Option("queue_only_override", B, "true"),
    Option("queue_run_in_order", B, "false"),
    Option("queue_run_max", S, "5"),
    Option("queue_smtp_domains", S),
    Option("receive_timeout", T.TIME, "0s"),
    Option("received_header_text", S, _RECEIVED_HEADER_TEXT),
    Option("received_headers_max", T.INT, "30"),
    Option("recipient_unqualified_hosts", S),
    Option("recipients_max", T.INT, "50000"),
    Option("recipients_max_reject", B, "false"),
    # Not in Debian's build (no Redis lookup there): hidden from a full -bP.
    Option("redis_servers", S, hidden=True, supported=True),
    Option("remote_max_parallel", T.INT, "2"),
    Option("remote_sort_domains", S),
    Option("retry_data_expire", T.TIME, "1w"),
    Option("retry_interval_max", T.TIME, "1d"),
    Option("return_path_remove", B, "true"),
    Option("return_size_limit", T.MKINT, hidden=True, alias="bounce_return_size_limit"),
    Option("rfc1413_hosts", S, "@[]"),
    Option("rfc1413_query_timeout", T.TIME, "0s"),
    Option("sender_unqualified_hosts", S),
    Option("slow_lookup_log", T.INT, "0"),
    Option("smtp_accept_keepalive", B, "true"),
    Option("smtp_accept_max", T.INT, "20"),
    Option("smtp_accept_max_nonmail", T.INT, "10"),
    Option("smtp_accept_max_nonmail_hosts", S, "*"),
    Option("smtp_accept_max_per_connection", S, "1000"),
    Option("smtp_accept_max_per_host", S),
    Option("smtp_accept_queue", T.INT, "0"),
    Option("smtp_accept_queue_per_connection", T.INT, "10"),
    Option("smtp_accept_reserve", T.INT, "0"),
    Option("smtp_active_hostname", S),
    Option("smtp_backlog_monitor", T.INT, "0"),
    Option("smtp_banner", S, "$smtp_active_hostname ESMTP Exim $version_number $tod_full"),
    Option("smtp_check_spool_space", B, "true"),
    Option("smtp_connect_backlog", T.INT, "20"),
    Option("smtp_enforce_sync", B, "true"),
    Option("smtp_etrn_command", S),
    Option("smtp_etrn_serialize", B, "true"),
    Option("smtp_load_reserve", T.FIXED),
    Option("smtp_max_synprot_errors", T.INT, "3"),
    Option("smtp_max_unknown_commands", T.INT, "3"),
    Option("smtp_ratelimit_hosts", S),
    Option("smtp_ratelimit_mail", S),
    Option("smtp_ratelimit_rcpt", S),
    Option("smtp_receive_timeout", T.TIME_OR_EXPAND, "5m"),
    Option("smtp_reserve_hosts", S),
    Option("smtp_return_error_details", B, "false"),
    Option("smtputf8_advertise_hosts", S, "*"),
    Option("spamd_address", S, "127.0.0.1 783"),
    Option("spf_guess", S, "v=spf1 a/24 mx/24 ptr ?all"),
    Option("spf_smtp_comment_template", S, "Please%_see%_http://www.open-spf.org/Why"),
    Option("split_spool_directory", B, "false"),
    Option("spool_directory", S, build.SPOOL_DIRECTORY),
    Option("spool_wireformat", B, "false"),
    Option("sqlite_dbfile", S, supported=True),
    Option("sqlite_lock_timeout", T.INT, "5", supported=True),
    Option("strict_acl_vars", B, "false"),
    Option("strip_excess_angle_brackets", B, "false"),
    Option("strip_trailing_dot", B, "false"),
    Option("syslog_duplication", B, "true"),
    Option("syslog_facility", S),
    Option("syslog_pid", B, "true"),
    Option("syslog_processname", S, "exim"),
    Option("syslog_timestamp", B, "true"),
    Option("system_filter", S),
    Option("system_filter_directory_transport", S),
    Option("system_filter_file_transport", S),
    Option("system_filter_group", T.GID),
    Option("system_filter_pipe_transport", S),
    Option("system_filter_reply_transport", S),
    Option("system_filter_user", T.UID),
    Option("tcp_nodelay", B, "true"),
    Option("timeout_frozen_after", T.TIME, "0s"),
    Option("timezone", S),
    Option("tls_advertise_hosts", S, "*"),
    Option("tls_alpn", S, "smtp:esmtp"),
    Option("tls_certificate", S),
    Option("tls_crl", S),
    Option("tls_dh_max_bits", T.INT, "2236"),
    Option("tls_dhparam", S),
    Option("tls_eccurve", S, "auto"),
    Option("tls_ocsp_file", S),
    Option("tls_on_connect_ports", S),
    Option("tls_privatekey", S),
    Option("tls_remember_esmtp", B, "false"),
    Option("tls_require_ciphers", S),
    Option("tls_resumption_hosts", S),
    Option("tls_try_verify_hosts", S),
    Option("tls_verify_certificates", S, "system"),
    Option("tls_verify_hosts", S),
    Option("trusted_groups", T.GIDLIST),
    Option("trusted_users", T.UIDLIST),
    Option("unknown_login", S),
    Option("unknown_username", S),
    Option("untrusted_set_sender", S),
    Option("uucp_from_pattern", S, r"^From\s+(\S+)\s+(?:[a-zA-Z]{3},?\s+)?(?:[a-zA-Z]{3}\s+\d?\d|\d?\d\s+[a-zA-Z]{3}\s+\d\d(?:\d\d)?)\s+\d\d?:\d\d?"),
    Option("uucp_from_sender", S, "$1"),
    Option("warn_message_file", S),
    Option("write_rejectlog", B, "true"),
]

# Options whose behaviour pexim has today (issue by issue this set grows; see
# docs/features.md). The receiving modes refuse a configuration that sets any
# other option to something other than "off" (config.support).
SUPPORTED = frozenset("""
accept_8bitmime acl_not_smtp acl_smtp_connect acl_smtp_data acl_smtp_etrn acl_smtp_expn
acl_smtp_helo acl_smtp_mail acl_smtp_notquit acl_smtp_predata acl_smtp_quit acl_smtp_rcpt acl_smtp_vrfy
add_environment admin_groups allow_domain_literals chunking_advertise_hosts daemon_smtp_ports
bounce_message_file bounce_message_text bounce_return_body bounce_return_linesize_limit
bounce_return_message bounce_return_size_limit bounce_sender_authentication dsn_from
errors_copy errors_reply_to warn_message_file callout_positive_expire callout_negative_expire
callout_domain_positive_expire callout_domain_negative_expire
auto_thaw delay_warning delay_warning_condition event_action preserve_message_logs queue_run_in_order
retry_interval_max timezone
dns_again_means_nonexist dns_check_names_pattern dns_cname_loops dns_dnssec_ok dns_retrans
dns_retry dns_trust_aa dns_use_edns0 dsn_advertise_hosts exim_group exim_user exim_version
extra_local_interfaces gecos_name gecos_pattern headers_charset helo_accept_junk_hosts
helo_allow_chars helo_lookup_domains helo_try_verify_hosts helo_verify_hosts hosts_proxy
host_reject_connection hosts_connection_nolog hosts_require_helo hosts_treat_as_local
ignore_fromline_hosts keep_environment local_from_check local_interfaces local_sender_retain
localhost_number log_file_path log_selector log_timezone message_body_newlines
message_body_visible message_size_limit pid_file_path pipelining_advertise_hosts
pipelining_connect_advertise_hosts prdr_enable primary_hostname print_topbitchars
proxy_protocol_timeout queue_list_requires_admin
qualify_domain qualify_recipient queue_only received_header_text recipient_unqualified_hosts
recipients_max recipients_max_reject redis_servers sender_unqualified_hosts smtp_accept_max
smtp_accept_max_nonmail smtp_accept_max_nonmail_hosts smtp_accept_max_per_connection
smtp_accept_max_per_host smtp_accept_reserve smtp_active_hostname smtp_banner
smtp_connect_backlog smtp_etrn_command smtp_max_synprot_errors smtp_max_unknown_commands
smtp_receive_timeout smtp_reserve_hosts smtputf8_advertise_hosts split_spool_directory
spool_directory sqlite_dbfile sqlite_lock_timeout strict_acl_vars strip_excess_angle_brackets
strip_trailing_dot syslog_duplication syslog_facility syslog_pid syslog_processname
syslog_timestamp trusted_groups trusted_users untrusted_set_sender uucp_from_pattern
uucp_from_sender write_rejectlog
""".split())

MAIN_OPTIONS = [replace(o, supported=True) if o.name in SUPPORTED else o for o in MAIN_OPTIONS]
