"""Pulumi dynamic provider for the desired status of AWS CodeArtifact package versions."""
