"""Benchmarks of recsys-tutorial: accuracy on three MovieLens splits, speed, recommendation latency."""
