"""Murmur: monitor public discourse about an AI controversy. `murmur --help` lists the commands."""

__version__ = "0.2.0"
