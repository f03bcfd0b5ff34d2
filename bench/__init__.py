"""Benchmarks: seed a realistic ward history and time the busiest pages through gunicorn."""
