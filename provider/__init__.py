"""Pulumi dynamic provider for the desired status of AWS CodeArtifact package versions.

Public import paths (stored in users' Pulumi state; never move them):
``provider.PackageVersionStatus`` / ``provider.package_version_status.PackageVersionStatusProvider`` and
``provider.PackageVersionsStatus`` / ``provider.package_versions_status.PackageVersionsStatusProvider``.
"""

from provider.package_version_status import PackageVersionStatus, PackageVersionStatusProvider
from provider.package_versions_status import PackageVersionsStatus, PackageVersionsStatusProvider

__all__ = [
    "PackageVersionStatus",
    "PackageVersionStatusProvider",
    "PackageVersionsStatus",
    "PackageVersionsStatusProvider",
]
