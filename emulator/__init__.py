"""A local AWS CodeArtifact (package version status management) for tests, demos and benchmarks.

``backend.Backend`` holds every rule and all state (SQLite); ``server`` is a thin rest-json layer
driven by botocore's service model. Run it with ``python -m emulator serve``.
"""
