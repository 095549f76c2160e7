"""`python -m analyze`: see analyze.cli."""

import sys

from analyze.cli import main
from monitor.cli import run_entry_point

run_entry_point(lambda: main(sys.argv[1:]), "python -m analyze")
