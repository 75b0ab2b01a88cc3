"""Makes the shared test helpers in this directory (mode_cases.py) importable."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
