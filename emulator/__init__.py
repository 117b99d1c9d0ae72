"""A local AWS CodeArtifact (package version status management) for tests, demos and benchmarks.

``backend.Backend`` holds every rule and all state (SQLite); ``server`` is a thin rest-json layer
driven by botocore's service model; ``admin`` answers the ``/_emulator/`` admin path and holds
the test hooks; ``testing`` is the harness that tests/ and bench/ share (start a process, seed,
read counters). Run it with ``python -m emulator serve``.
"""
