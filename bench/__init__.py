"""Benchmarks for csrnews (run each as ``python -m bench.<name>``)."""
