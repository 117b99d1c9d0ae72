"""The shape every evidence reader returns, and the one error they raise."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

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
