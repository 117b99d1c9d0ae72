"""Runs `packaging` (the PyPA reference for PEP 440) over a corpus, in its own virtualenv:
python pypi_ref.py CORPUS.json > FIXTURE.json. Ranges are SpecifierSet.contains, per version
(default prereleases=None, and prereleases=True)."""

import json
import sys

import packaging
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

corpus = json.load(open(sys.argv[1]))
versions = corpus["versions"]


def parse(v):
    try:
        return Version(v)
    except InvalidVersion:
        return None


parsed = [parse(v) for v in versions]


def sign(a, b):
    return "-" if a < b else "+" if a > b else "0"


ranges = []
for r in corpus["ranges"]:
    try:
        spec = SpecifierSet(r)
        valid, error = True, None
    except InvalidSpecifier as e:
        spec, valid, error = None, False, str(e)
    def m(pre):
        return "".join("1" if p is not None and spec is not None and spec.contains(p, prereleases=pre) else "0"
                       for p in parsed)
    ranges.append({"range": r, "valid": valid, "error": error, "matches": m(None), "matches_pre": m(True)})

json.dump({
    "format": "pypi", "reference": f"packaging {packaging.__version__}", "versions": versions,
    "valid": "".join("1" if p is not None else "0" for p in parsed),
    "prerelease": "".join("-" if p is None else "1" if p.is_prerelease else "0" for p in parsed),
    "order": ["".join(sign(a, b) if a is not None and b is not None else "?" for b in parsed) for a in parsed],
    "ranges": ranges,
}, sys.stdout, indent=1)
print()
