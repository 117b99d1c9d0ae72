"""The stack program's entry point, kept at this path for users' `__main__.py`
(`from provider.program import main`). The program itself: provider/stack/program.py."""

from provider.stack.program import main

__all__ = ["main"]
