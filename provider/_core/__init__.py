"""Talking to CodeArtifact, shared by the resources: the status and format vocabulary
(`model`), errors, provider configuration and clients, the finders and the applier (`api`),
pure write batching at the physical minimum (`batching`), the listing cache shared by the
processes of one `pulumi` command, and the check/diff helpers of both resources (`lifecycle`).

Layer: the bottom. Imports nothing of `provider` outside `_core`. Private to the package: users
import `provider` (the resources) and `provider.program`.
"""
