"""pexim-exiqgrep: Exim's exiqgrep (select queued messages, show them) without a pipe.

Same options, selection rules and output as exiqgrep 4.96, but it reads the
spool through pexim.spool.queue instead of parsing `exim -bpu`: -f/-r/-s
are Perl-style regular expressions (sender and recipients case-insensitive,
the sender with its "<>"), -y/-o are seconds since arrival, -z/-x frozen or
not, -a counts delivered recipients too; -c/-i/-b/-l choose the output.
"""

from __future__ import annotations

import getopt
import re
import sys
import time

HELP = """\
Exim message queue display utility.

\t-h\t\tThis help message.
\t-C\t\tSpecify which exim.conf to use.
\t-E\t\tSpecify exim binary to use.

Selection criteria:
\t-f <regexp>\tMatch sender address sender (field is "< >" wrapped)
\t-r <regexp>\tMatch recipient address
\t-s <regexp>\tMatch against the size field from long output
\t-y <seconds>\tMessage younger than
\t-o <seconds>\tMessage older than
\t-z\t\tFrozen messages only (exclude non-frozen)
\t-x\t\tNon-frozen messages only (exclude frozen)
\t-G <queuename>\tMatch in given queue only

[ NB: for regexps, provided string sits in /<string>/ ]

Display options:
\t-c\t\tDisplay match count
\t-l\t\tLong Format [Default]
\t-i\t\tMessage IDs only
\t-b\t\tBrief Format
\t-R\t\tReverse order
\t-a\t\tAll recipients (including delivered)
"""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--version"]:
        sys.stdout.write("pexim-exiqgrep: pexim\nbuild: 4.96\n")
        return 0
    try:
        pairs, rest = getopt.getopt(argv, "hf:r:y:o:s:C:zxlibRcaG:E:")
    except getopt.GetoptError as err:
        sys.stderr.write(f"{err}\n")
        sys.stdout.write(HELP)
        return 0
    opt = dict(pairs)
    if "-h" in opt:
        sys.stdout.write(HELP)
        return 0
    if (rest and rest[0]) or not any(opt.get(k) or k in opt and k in ("-z", "-x", "-c")
                                     for k in ("-f", "-r", "-s", "-y", "-o", "-z", "-x", "-c")):
        sys.stdout.write(HELP)
        return 1
    return run(opt, sys.stdout)


def run(opt: dict[str, str], out) -> int:
    from pexim.cli import Invocation
    from pexim.commands import load_config
    from pexim.spool import queue as q
    from pexim.spool.paths import SpoolPaths

    config = load_config(Invocation(mode="-bp", config=opt.get("-C")))
    if config is None:
        return 1
    paths = SpoolPaths.from_config(config, opt.get("-G", ""))
    sel = q.Selection(sender=opt.get("-f") or None, recipient=opt.get("-r") or None,
                      size=opt.get("-s") or None,
                      younger=int(opt["-y"]) if opt.get("-y") else None,
                      older=int(opt["-o"]) if opt.get("-o") else None,
                      frozen=True if "-z" in opt else False if "-x" in opt else None,
                      all_recipients="-a" in opt)
    now = time.time()
    entries = [e for e in (q.load(paths, mid) for mid in paths.message_ids())
               if e.msg is not None]
    chosen = [e for e in entries if sel.matches(e, now)]
    if "-c" in opt:
        out.write("%d matches out of %d messages\n" % (len(chosen), len(entries)))
        return 0
    chosen.sort(key=lambda e: (q.id_time(e.id), e.id), reverse="-R" in opt)
    for e in chosen:
        rcpts = sel.recipients(e)
        sender = "<%s>" % e.msg.sender
        if "-i" in opt:
            out.write(e.id + "\n")
        elif "-b" in opt:
            out.write("%s From: %s To: %s\n" % (e.id, sender, ";".join(rcpts)))
        else:
            age = q.format_age(int(now) - e.msg.received_time[0]).strip()
            size = re.match(r"(?:\d+(?:\.\d+)?[A-Z]?)?", q.format_size(e.size).strip()).group()
            out.write("%3s %5s %s %s%s\n" % (age, size, e.id, sender,
                                             " *** frozen ***" if e.frozen else ""))
            out.write("".join("\t  %s\n" % r for r in rcpts) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
