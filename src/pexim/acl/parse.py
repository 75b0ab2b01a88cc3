"""ACL text to statements, with Exim's acl_read() checks and error texts.

Parsing happens once at configuration load; the engine evaluates the
statements. An ACL line either starts a verb (optionally followed by its first
condition) or adds a condition/modifier to the current verb.
"""

from __future__ import annotations

from dataclasses import dataclass, field

VERBS = ("accept", "defer", "deny", "discard", "drop", "require", "warn")

# Conditions and modifiers of Exim 4.96 (Debian's build); True marks modifiers.
CONDITIONS = {
    "acl": False, "add_header": True, "authenticated": False, "condition": False,
    "continue": True, "control": True, "decode": False, "delay": True,
    "dkim_signers": False, "dkim_status": False, "dnslists": False, "domains": False,
    "encrypted": False, "endpass": True, "hosts": False, "local_parts": False,
    "log_message": True, "log_reject_target": True, "logwrite": True, "malware": False,
    "message": True, "mime_regex": False, "queue": True, "ratelimit": False,
    "recipients": False, "regex": False, "remove_header": True, "seen": False,
    "sender_domains": False, "senders": False, "set": True, "spam": False, "spf": False,
    "spf_guess": False, "udpsend": True, "verify": False,
}


class AclSyntaxError(Exception):
    """The text Exim puts after "error in ACL: "."""


@dataclass(slots=True)
class Condition:
    name: str
    negated: bool
    arg: str | None          # None for endpass
    varname: str | None = None   # for `set`: "c0", "m_foo", "dkim_verify_status"


@dataclass(slots=True)
class Statement:
    verb: str
    conditions: list[Condition] = field(default_factory=list)
    file: str = ""
    line: int = 0


def _read_name(s: str, i: int) -> tuple[str, int]:
    while i < len(s) and s[i].isspace():
        i += 1
    j = i
    if j < len(s) and s[j].isalpha():
        while j < len(s) and (s[j].isalnum() or s[j] == "_"):
            j += 1
    name = s[i:j]
    while j < len(s) and s[j].isspace():
        j += 1
    return name, j


def starts_new_acl(line: str) -> bool:
    """A `name:` line (or a macro definition) ends the current ACL."""
    i = 1 if line.lstrip().startswith("!") else 0
    name, j = _read_name(line.lstrip(), i)
    rest = line.lstrip()[j:]
    return rest.startswith(":") or (name[:1].isupper() and rest.startswith("="))


def add_line(statements: list[Statement], line: str, file: str = "", lineno: int = 0) -> None:
    """Parse one ACL line into `statements` (acl_read); raise AclSyntaxError."""
    s = line.lstrip()
    negated = s.startswith("!")
    name, i = _read_name(s, 1 if negated else 0)
    if name in VERBS:
        if negated:
            raise AclSyntaxError(f'malformed ACL line "{line}"')
        statements.append(Statement(name, file=file, line=lineno))
        if i >= len(s):
            return
        negated = s.startswith("!", i)
        name, i = _read_name(s, i + 1 if negated else i)
    elif not statements:
        raise AclSyntaxError(f'unknown ACL verb "{name}" in "{line}"')
    current = statements[-1]
    if name not in CONDITIONS:
        raise AclSyntaxError(f'unknown ACL condition/modifier in "{line}"')
    if negated and CONDITIONS[name]:
        raise AclSyntaxError(f'ACL error: negation is not allowed with "{name}"')
    if name == "endpass" and current.verb not in ("accept", "discard"):
        raise AclSyntaxError(f'ACL error: "endpass" is not allowed with "{current.verb}"')
    varname = None
    if name == "set":
        varname, i = _set_variable(s, i)
    arg = None
    if name != "endpass":
        if i >= len(s) or s[i] != "=":
            kind = "modifier" if CONDITIONS[name] else "condition"
            raise AclSyntaxError(f'"=" missing after ACL "{name}" {kind}')
        arg = s[i + 1:].lstrip()
    current.conditions.append(Condition(name, negated, arg, varname))


def _set_variable(s: str, i: int) -> tuple[str, int]:
    """The variable name after `set` (acl_c*/acl_m* or a dkim_verify_* one)."""
    rest = s[i:]
    for special in ("dkim_verify_status", "dkim_verify_reason"):
        if rest.startswith(special):
            if rest[18:19].isalnum():
                raise AclSyntaxError(
                    f'invalid variable name after "set" in ACL modifier "set {rest}" '
                    '(only "dkim_verify_status" or "dkim_verify_reason" permitted)')
            j = i + 18
            while j < len(s) and s[j].isspace():
                j += 1
            return special, j
    if not (rest.startswith("acl_c") or rest.startswith("acl_m")):
        raise AclSyntaxError(f'invalid variable name after "set" in ACL modifier '
                             f'"set {rest}" (must start "acl_c" or "acl_m")')
    if not (rest[5:6].isdigit() or rest[5:6] == "_"):
        raise AclSyntaxError(f'invalid variable name after "set" in ACL modifier "set {rest}" '
                             '(digit or underscore must follow acl_c or acl_m)')
    j = 5
    while j < len(rest) and rest[j] != "=" and not rest[j].isspace():
        if not (rest[j].isalnum() or rest[j] == "_"):
            raise AclSyntaxError(f'invalid character "{rest[j]}" in variable name '
                                 f'in ACL modifier "set {rest}"')
        j += 1
    varname = rest[4:j]
    while j < len(rest) and rest[j].isspace():
        j += 1
    return varname, i + j
