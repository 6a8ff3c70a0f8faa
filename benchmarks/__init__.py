"""Benchmarks: `python -m benchmarks.<name>` (see BENCHMARKS.md)."""
