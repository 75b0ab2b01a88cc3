"""One address on its way through routing and transport (Exim's address_item).

Routers fill in where the address goes (transport, hosts, uid, data for later
expansions); transports fill in what happened (status, message, errno).  The
delivery orchestrator, ``-bt``/``-bv`` and ACL verification all pass these
objects around, so the fields are the contract between routers/, transports/
and delivery/.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Outcomes (Exim's OK/DEFER/FAIL/...), shared by routers, transports and delivery.
OK, DEFER, FAIL, DECLINE, PASS, DISCARD, ERROR, REROUTED, SKIP = (
    "ok", "defer", "fail", "decline", "pass", "discard", "error", "rerouted", "skip")

# Host status and why (host_item.status / .why).
HSTATUS_UNKNOWN, HSTATUS_USABLE, HSTATUS_UNUSABLE = "unknown", "usable", "unusable"
MX_NONE = -1                    # the host did not come from an MX record


@dataclass(eq=False)
class Host:
    """A target host (host_item): from MX/A lookups, route_list, hosts= or fallback."""

    name: str
    address: str | None = None
    port: int | None = None     # None: the transport's port
    mx: int = MX_NONE           # MX preference
    sort_key: int = 0
    status: str = HSTATUS_UNKNOWN
    why: str = ""               # "retry" / "ignored" / ""
    dnssec: bool = False        # the A/AAAA answer was DNSSEC-authenticated

    def __str__(self) -> str:
        return f"{self.name} [{self.address}]" if self.address else self.name


@dataclass(eq=False)
class AddressItem:
    """An address being routed and delivered."""

    address: str                            # as it is now (after rewriting/affixes kept)
    local_part: str = ""
    domain: str = ""
    parent: AddressItem | None = None
    unique: str = ""                        # key for duplicate detection and -H nonrecipients
    prefix: str = ""                        # local_part_prefix that matched
    suffix: str = ""
    cc_local_part: str = ""                 # local part in its original case
    # Set by routing.
    router: str | None = None               # name of the router that accepted it
    transport: str | None = None            # transport instance name
    special: str | None = None              # "pipe" | "file" | "directory" | "reply" for
                                            # redirect-generated deliveries
    hosts: list[Host] = field(default_factory=list)
    fallback_hosts: list[Host] = field(default_factory=list)
    errors_address: str | None = None       # errors_to (None: use the sender)
    address_data: str | None = None         # $address_data (propagates to children)
    domain_data: str | None = None
    local_part_data: str | None = None
    router_vars: dict[str, str] = field(default_factory=dict)   # `set = r_name = ...`
    uid: int | None = None
    gid: int | None = None
    initgroups: bool = False
    home_dir: str | None = None
    current_dir: str | None = None
    extra_headers: list[str] = field(default_factory=list)      # router headers_add
    remove_headers: list[str] = field(default_factory=list)     # router headers_remove
    self_hostname: str | None = None        # $self_hostname
    unseen: bool = False
    # DSN, from the -H recipient line.
    dsn_flags: int = 0
    orcpt: str | None = None
    # Outcome (set by router for fail/defer, by transport after delivery).
    status: str | None = None               # OK / DEFER / FAIL / DISCARD
    message: str | None = None              # for logs and bounces
    user_message: str | None = None         # for SMTP replies (verify) and bounces
    basic_errno: int = 0                    # Exim's ERRNO_* or a real errno
    more_errno: int = 0
    host_used: Host | None = None           # the host a remote delivery went to
    pass_message: bool = False              # af_pass_message: ``message`` may be shown to
                                            # the sender (bounces, Diagnostic-Code:)
    smtp_greeting: str | None = None        # the remote host's banner and EHLO reply
    helo_response: str | None = None        # (DSN information in bounces)
    dsn_aware: bool | None = None           # next hop advertised DSN (None: not SMTP)
    hide_child: bool = False                # af_hide_child (hide_child_in_errmsg)
    return_output: bytes | None = None      # pipe output for the bounce (return_output,
                                            # return_fail_output); Exim's return_file
    retry_keys: list[str] = field(default_factory=list)
    frozen: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.local_part and not self.domain:
            at = self.address.rfind("@")
            if at >= 0:
                self.local_part, self.domain = self.address[:at], self.address[at + 1:]
            else:
                self.local_part = self.address
        if not self.cc_local_part:
            self.cc_local_part = self.local_part
        if not self.unique:
            self.unique = self.address

    def child(self, address: str, **kw: Any) -> AddressItem:
        """A redirect-generated address: it inherits what Exim propagates."""
        kid = AddressItem(address, parent=self, **kw)
        kid.address_data = self.address_data
        kid.errors_address = kid.errors_address or self.errors_address
        kid.dsn_flags = self.dsn_flags
        kid.extra_headers = list(self.extra_headers)
        kid.remove_headers = list(self.remove_headers)
        return kid

    @property
    def top(self) -> AddressItem:
        """The original recipient this address descends from."""
        a = self
        while a.parent is not None:
            a = a.parent
        return a

    def log_name(self) -> str:
        """How log lines name it: "child <parent>" chains as Exim prints them."""
        if self.parent is None:
            return self.address
        return f"{self.address} <{self.top.address}>"

    def values(self) -> dict[str, Any]:
        """The expansion variables this address sets ($local_part, $domain, ...)."""
        v: dict[str, Any] = {
            "local_part": self.local_part, "domain": self.domain,
            "local_part_prefix": self.prefix, "local_part_suffix": self.suffix,
            "original_local_part": self.top.local_part, "original_domain": self.top.domain,
            "parent_local_part": self.parent.local_part if self.parent else None,
            "parent_domain": self.parent.domain if self.parent else None,
            "address_data": self.address_data, "domain_data": self.domain_data,
            "local_part_data": self.local_part_data, "self_hostname": self.self_hostname,
            "home": self.home_dir, "router_name": self.router,
            "transport_name": self.transport,
        }
        if self.hosts:
            v["host"] = self.hosts[0].name
        for name, value in self.router_vars.items():
            v[name] = value
        return {k: val for k, val in v.items() if val is not None}
