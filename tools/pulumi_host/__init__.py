"""The project's own Python language host for the Pulumi engine.

The module proxy serves the Pulumi CLI (pkg/v3) but not the Python language-host module
(github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3 answers 403 for every
version), so `scripts/build-engine` pairs the real CLI with this small host. It speaks the
engine's LanguageRuntime gRPC protocol using the stubs shipped in the `pulumi` wheel.
"""
