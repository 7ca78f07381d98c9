"""Benchmarks of the skill model: calibration recovery and speed, and scoring throughput.

Run them with ``python -m benchmarks.run`` (see ``benchmarks/README.md``). They are not
tests: nothing here asserts a wall-clock time. This package imports nothing heavy at import
time, so the runner can set thread variables before numpy loads.
"""
