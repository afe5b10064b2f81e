"""Benchmarks: scripts (not tests) that compare against a baseline in the same run and print ratios."""
