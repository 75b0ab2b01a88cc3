"""Side-by-side benchmark: pexim against real exim on the same configuration.

Today pexim reads configurations but does not receive mail yet, so the load is
"start, read the configuration, print every option" (`-bP`), which is what every
pexim and exim process does first. The SMTP load generator joins when the daemon
lands. Prints runs per second for both and their ratio.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CONF = os.path.join(ROOT, "docs", "examples", "archwiki.conf")


def rate(cmd: list[str], seconds: float = 3.0) -> float:
    """Runs per second of `cmd` over about `seconds` (bounded count)."""
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds and n < 500:
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        n += 1
    return n / (time.perf_counter() - start)


def main() -> int:
    exim = shutil.which("exim") or "/usr/sbin/exim"
    with tempfile.TemporaryDirectory() as tmp:
        conf = os.path.join(tmp, "bench.conf")
        shutil.copy(CONF if os.path.exists(CONF) else
                    os.path.join(ROOT, "src", "pexim", "data", "default.conf"), conf)
        os.chmod(conf, 0o644)
        pexim = [sys.executable, "-m", "pexim", "-C", conf, "-bP"]
        p = rate(pexim)
        e = rate([exim, "-C", conf, "-bP"]) if os.path.exists(exim) else 0.0
    print(f"load: start + read configuration + -bP ({os.path.basename(CONF)})")
    print(f"pexim: {p:8.1f} runs/s")
    print(f"exim:  {e:8.1f} runs/s")
    print(f"ratio pexim/exim: {p / e:.2f}" if e else "ratio: exim not installed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
