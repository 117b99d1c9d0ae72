"""The spec language: pure and offline (no boto3, no pulumi).

Layer rule: modules here may import `provider.model` (the status and format vocabulary) and
nothing else of the provider; nothing here does I/O except reading spec files.
"""
