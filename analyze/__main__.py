"""`python -m analyze`: see analyze.cli."""

from analyze.cli import main
from monitor.cli import run_entry_point

run_entry_point(main, "analyze")
