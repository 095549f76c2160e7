"""`python -m collect`: see collect.cli."""

from collect.cli import main
from monitor.cli import run_entry_point

run_entry_point(main, "collect")
