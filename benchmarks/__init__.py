"""Benchmarks for Vigil's storage path. Run them as modules: `python -m benchmarks.storage`."""
