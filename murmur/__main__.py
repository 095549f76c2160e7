"""`python -m murmur`: the same as the `murmur` console script."""

from murmur.cli import main

main()
