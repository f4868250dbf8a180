"""Performance benchmarks of Lagebild (``make bench``; see bench/README.md)."""
