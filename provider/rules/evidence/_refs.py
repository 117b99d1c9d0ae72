"""The shape every evidence reader returns, and the one error they raise."""

from __future__ import annotations

from dataclasses import dataclass

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
