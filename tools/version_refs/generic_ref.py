"""GNU `sort -V` (coreutils, C locale) over the generic corpus: python generic_ref.py CORPUS.json > FIXTURE.json.
The order matrix is read off the positions in two stable sorts (`sort -s -V`) of the corpus and of
its reverse: a pair in the same order in both is ordered by sort -V; a pair that swaps is a tie
(sort -V holds them equal, e.g. `1` and `001`)."""

import json
import os
import subprocess
import sys

versions = json.load(open(sys.argv[1]))["versions"]


def positions(items: list) -> dict:
    out = subprocess.run(["sort", "-s", "-V"], input="\n".join(items) + "\n", capture_output=True, text=True,
                         check=True, env={**os.environ, "LC_ALL": "C"}).stdout.splitlines()
    return {v: i for i, v in enumerate(out)}


forward, backward = positions(versions), positions(list(reversed(versions)))


def sign(a: str, b: str) -> str:
    f = (forward[a] > forward[b]) - (forward[a] < forward[b])
    r = (backward[a] > backward[b]) - (backward[a] < backward[b])
    return "-" if f == r == -1 else "+" if f == r == 1 else "0"

version = subprocess.run(["sort", "--version"], capture_output=True, text=True, check=True).stdout.splitlines()[0]
json.dump({
    "format": "generic", "reference": version, "versions": versions, "valid": "1" * len(versions),
    "prerelease": "-" * len(versions),
    "order": ["".join(sign(a, b) for b in versions) for a in versions],
    "ranges": [],
}, sys.stdout, indent=1)
print()
