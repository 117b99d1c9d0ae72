"""Pulumi dynamic provider for the desired status of AWS CodeArtifact package versions.

Public import paths (stored in users' Pulumi state; never move them):
``provider.PackageVersionStatus`` / ``provider.package_version_status.PackageVersionStatusProvider``,
``provider.PackageVersionsStatus`` / ``provider.package_versions_status.PackageVersionsStatusProvider``,
``provider.status_ledger.StatusLedgerProvider`` and ``provider.program.main`` (users' __main__.py).

Layers, top to bottom (each imports only those below it; tests/test_layers.py checks it):
``cli`` > ``stack`` > the resource modules (``package_version_status``, ``package_versions_status``,
``status_ledger``) > ``rules`` (the spec language; only ``_core.model`` of ``_core``) > ``_core``.
"""

from provider.package_version_status import PackageVersionStatus, PackageVersionStatusProvider
from provider.package_versions_status import PackageVersionsStatus, PackageVersionsStatusProvider

__all__ = [
    "PackageVersionStatus",
    "PackageVersionStatusProvider",
    "PackageVersionsStatus",
    "PackageVersionsStatusProvider",
]
