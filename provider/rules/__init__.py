"""The spec language: pure and offline (no boto3, no pulumi).

`spec` (the file format, strict loading, file:line errors), `expand` (precedence: one decision per
version with its reason, age resolution), `ecosystems/` (order, prerelease and native ranges per
ecosystem, conformance-tested), `usage/` (`in_use` evidence: SBOMs and lockfiles).

Layer: may import `provider._core.model` (the status and format vocabulary) and nothing else of
the provider. Does no I/O but reading spec files and the consumer files they name.
"""
