"""The command line (`python -m provider`, the `codeartifact-status` script): validate, schema,
adopt, snapshot, plan --live, summary.

Layer: the top. May import everything below it (`stack`, the resource modules, `rules`, `_core`);
nothing imports it but `provider.__main__`.
"""

from provider.cli.main import main

__all__ = ["main"]
