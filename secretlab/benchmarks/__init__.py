"""Benchmarks discovered by :mod:`secretlab.bench`: functions ``bench_*(quick) -> list[Measurement]``."""
