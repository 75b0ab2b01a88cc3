"""The -be expansion corpus (817 cases answered by real Exim 4.96), scored by
the shared check.py against `python -m pexim`.  The floor is the measured
pass count; raise it when pexim improves, never lower it."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS_DIR = os.path.join(ROOT, "..", "shared", "conformance", "expand")
CHECK = os.path.join(CORPUS_DIR, "check.py")
FLOOR = 817


@pytest.mark.skipif(not os.path.exists(CHECK), reason="expansion corpus not available")
def test_expand_corpus_floor():
    cmd = "%s -m pexim" % sys.executable
    proc = subprocess.run([sys.executable, CHECK, "--cmd", cmd, "--show-fail", "20"],
                          capture_output=True, text=True, timeout=600)
    last = proc.stdout.strip().splitlines()[-1]
    m = re.match(r"expand: (\d+)/(\d+)", last)
    assert m, proc.stdout[-2000:]
    passed = int(m.group(1))
    assert passed >= FLOOR, proc.stdout[-4000:]
