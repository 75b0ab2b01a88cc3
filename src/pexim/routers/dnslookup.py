"""The dnslookup router: MX/SRV/A lookups for remote domains."""

from pexim.config.options import Option, T

S, B = T.STRING, T.BOOL
TRANSPORT = "required"

OPTIONS = [
    Option("check_secondary_mx", B, "false"),
    Option("check_srv", S),
    Option("fail_defer_domains", S),
    Option("ipv4_only", S),
    Option("ipv4_prefer", S),
    Option("mx_domains", S),
    Option("mx_fail_domains", S),
    Option("qualify_single", B, "true"),
    Option("rewrite_headers", B, "true"),
    Option("same_domain_copy_routing", B, "false"),
    Option("search_parents", B, "false"),
    Option("srv_fail_domains", S),
    Option("widen_domains", S),
]
