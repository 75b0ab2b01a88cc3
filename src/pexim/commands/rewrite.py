"""`-brw address`: what each rewrite rule does to an address in every place."""

from __future__ import annotations

import sys

from pexim.message import rewrite as rw

# (name as exim prints it, where)
_PLACES = (("  sender", rw.SENDER), ("    from", rw.FROM), ("      to", rw.TO),
           ("      cc", rw.CC), ("     bcc", rw.BCC), ("reply-to", rw.REPLY_TO),
           ("env-from", rw.ENV_FROM), ("  env-to", rw.ENV_TO))


def run(config, args: list[str]) -> int:
    from pexim.message.address import find_at, parse_extract_address

    out = sys.stdout.write
    main = config.main
    rewriter = rw.Rewriter(config.rewrite_rules, main.get("qualify_recipient"))
    if not config.rewrite_rules:
        out("No rewrite rules are defined\n")
        return 0
    text = args[0] if args else ""
    smtp_done = False
    if rw.SMTP in rewriter.flags_in_use():
        new, _ = rewriter.rewrite(text, rw.SMTP)
        if new != text:
            # Shown on its own: the other places start again from the input.
            out(f"    SMTP: {new or '<>'}\n")
            smtp_done = True
    if not any(rw.applies(r, where) for r in config.rewrite_rules for _, where in _PLACES):
        return 0                # only SMTP-time rules: nothing more to show
    if find_at(text) < 0:
        text = f"{text}@{main.get('qualify_recipient')}"
    address, error, start, end, _ = parse_extract_address(text)
    if address is None:
        if not smtp_done:
            out(f"Syntax error in {text}\n{error[:1].upper()}{error[1:]}\n")
        return 0
    for name, where in _PLACES:
        new, whole = rewriter.rewrite(address, where)
        if not new:
            line = "<>"
        elif whole or where not in rw.HEADERS:
            line = new
        else:
            line = text[:start] + new + text[end:]
        out(f"{name}: {line}\n")
    return 0
