"""Benchmarks: `python -m bench` (or `make bench`) prints speed, memory and quality figures."""
