"""A dynamic provider whose create returns at once with one small output: no API, no work."""

from typing import Any

from pulumi.dynamic import CreateResult, Resource, ResourceProvider


class NoopProvider(ResourceProvider):
    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(props["k"], {"k": props["k"]})


class Noop(Resource, module="floor", name="Noop"):
    def __init__(self, name: str, k: str) -> None:
        super().__init__(NoopProvider(), name, {"k": k})
