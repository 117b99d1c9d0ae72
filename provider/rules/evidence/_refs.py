"""The shape every evidence reader returns, and the one error they raise."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import IO, Any, Iterator

from provider._core.model import Format, normalized_name


class EvidenceError(Exception):
    """A consumer file that cannot be used as evidence: names the file and the problem."""

    def __init__(self, name: str, message: str) -> None:
        self.name = name
        self.message = message
        super().__init__(f"{name}: {message}")


@dataclass(frozen=True)
class Reference:
    """One package version a consumer uses, in CodeArtifact coordinates: names as CodeArtifact
    compares them (`normalized_name`), an empty namespace when the format has none."""
    format: Format
    namespace: str
    name: str
    version: str

    @staticmethod
    def of(fmt: Format, namespace: str | None, name: str, version: str) -> "Reference":
        return Reference(fmt, normalized_name(fmt, namespace), normalized_name(fmt, name), version)


MAX_DEPTH = 200  # JSON/TOML nesting no SBOM, lockfile or trail record needs; deeper is refused, not recursed


def parse_json(text: str, name: str) -> Any:
    """JSON text, or EvidenceError naming the file: malformed, nested deeper than the parser's
    recursion allows, or holding a number too long to convert (Python refuses > 4300 digits)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise EvidenceError(name, f"not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except RecursionError:
        raise EvidenceError(name, "JSON nested too deeply to read (no SBOM or lockfile nests that deep)") from None
    except ValueError as e:  # e.g. an integer of more than 4300 digits
        raise EvidenceError(name, f"not usable JSON: {str(e).split(';')[0]}") from None


def top_level(f: IO[bytes], name: str, arrays: frozenset[str]) -> Iterator[tuple[str, str, Any]]:
    """Streams a JSON document's top level: ("scalar", key, value) for each scalar member, and
    ("item", key, item) for each item of the arrays named in ``arrays`` (each item built whole;
    nothing else is kept). Nesting deeper than MAX_DEPTH raises EvidenceError at once: ijson's
    own item builder carries a path prefix per event, which for 100k-deep input costs gigabytes."""
    import ijson
    depth = 0
    key = ""
    wanted: str | None = None
    stack: list[list[Any]] = []  # [container, pending map key]

    def add(value: Any) -> None:
        top = stack[-1]
        if isinstance(top[0], dict):
            top[0][top[1]] = value
        else:
            top[0].append(value)
    try:
        for event, value in ijson.basic_parse(f, use_float=True):
            if event in ("start_map", "start_array"):
                depth += 1
                if depth > MAX_DEPTH:
                    raise EvidenceError(name, f"JSON nested more than {MAX_DEPTH} deep; no SBOM nests that deep")
                if depth == 2 and event == "start_array" and key in arrays:
                    wanted = key
                elif wanted is not None:
                    c: Any = {} if event == "start_map" else []
                    if stack:
                        add(c)
                    stack.append([c, None])
            elif event in ("end_map", "end_array"):
                depth -= 1
                if wanted is not None:
                    if depth == 1:
                        wanted = None
                    else:
                        done = stack.pop()[0]
                        if not stack:
                            yield "item", wanted, done
            elif event == "map_key":
                if depth == 1:
                    key = str(value)
                elif wanted is not None and stack:
                    stack[-1][1] = value
            elif depth == 1:
                yield "scalar", key, value
            elif wanted is not None:
                if stack:
                    add(value)
                else:
                    yield "item", wanted, value
    except ijson.JSONError as e:
        raise EvidenceError(name, f"not valid JSON: {str(e).splitlines()[0][:200]}") from None
    except UnicodeDecodeError as e:
        raise EvidenceError(name, f"not UTF-8 text ({e.reason} at byte {e.start})") from None
