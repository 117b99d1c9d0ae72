"""Test-only resets: what one provider process learned (listings, published times, the engine's
pace, the stack config and its clients), so tests that reuse one process for unrelated runs start
from nothing. Never called by the provider itself."""

from __future__ import annotations

from provider._core import coalesce, config, reads


def reset(keep_config: bool = False) -> None:
    """Forgets every cached listing and published time and the learned engine pace; unless
    ``keep_config``, the stack config and clients too."""
    reads.forget()
    coalesce.forget()
    if not keep_config:
        config.reset_for_tests()
