"""Benchmark scripts: each prints its figures; docs/benchmarks.md keeps them."""
