"""-bP for a caller who is not an Exim admin: `hide` values and macros stay secret.

Real exim is run as `nobody`; pexim in-process with the admin check answering
no (the test interpreter lives where `nobody` cannot run it).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from pexim.commands import info
from pexim.config.loader import load

EXIM = "/usr/sbin/exim"
CONF = """keep_environment =
hide tls_privatekey = /secret/key.pem
SECRET = hunter2
begin authenticators
a:
  driver = plaintext
  public_name = PLAIN
  hide client_send = : user : password
"""

pytestmark = pytest.mark.skipif(
    not os.path.exists(EXIM) or shutil.which("su") is None or os.geteuid() != 0,
    reason="needs real exim, su and root to run exim as nobody")


@pytest.mark.parametrize("args", [["tls_privatekey"], ["authenticators"], ["config"],
                                  ["macros"], ["macro", "SECRET"]])
def test_non_admin_sees_what_exim_shows(args, monkeypatch):
    # pytest's tmp_path sits under a root-only directory; nobody must read the file.
    tmp = Path(tempfile.mkdtemp(prefix="pexim-hide-"))
    tmp.chmod(0o755)
    conf = tmp / "hide.conf"
    conf.write_text(CONF)
    conf.chmod(0o644)
    cmd = " ".join([EXIM, "-C", str(conf), "-bP", *args])
    theirs = subprocess.run(["su", "nobody", "-s", "/bin/sh", "-c", cmd],
                            capture_output=True, text=True)
    monkeypatch.setattr(info, "is_admin", lambda config: False)
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        rc = info.print_options(load(str(conf)), args)
    assert (rc, out.getvalue(), err.getvalue()) == (theirs.returncode, theirs.stdout,
                                                    theirs.stderr)
    assert "hunter2" not in out.getvalue() and "password" not in out.getvalue()
    shutil.rmtree(tmp)
