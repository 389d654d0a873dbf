"""Benchmarks: lvdun's engines side by side with their peers, printed as one table."""
