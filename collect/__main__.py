"""`python -m collect`: see collect.cli."""

import sys

from collect.cli import main
from monitor.cli import run_entry_point

run_entry_point(lambda: main(sys.argv[1:]), "python -m collect")
