"""Measuring tools (not part of the app): see bench/README.md."""
