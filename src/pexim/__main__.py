"""Allows `python -m pexim` to behave exactly like the `pexim` command."""

import sys

from pexim.cli import main

sys.exit(main())
