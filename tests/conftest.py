"""Shared fixtures: one emulator process per test session, reset before each test that uses it."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from emulator.testing import EmulatorProcess, client, start_emulator


@pytest.fixture(scope="session")
def emulator_process() -> Iterator[EmulatorProcess]:
    emu = start_emulator()
    yield emu
    emu.stop()


@pytest.fixture
def emulator(emulator_process: EmulatorProcess) -> EmulatorProcess:
    emulator_process.reset()
    return emulator_process


@pytest.fixture
def provider_env(emulator: EmulatorProcess, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorProcess]:
    """Provider code called in this process against the emulator: test AWS credentials in the
    environment, stack config pointing at the emulator, and no cached listings before or after."""
    from emulator.testing import aws_env
    from provider._core import config, testing

    for k, v in aws_env().items():
        if k.startswith("AWS_"):
            monkeypatch.setenv(k, v)
    testing.reset()
    config.set_stack_config(config.StackConfig(endpoint_url=emulator.url, region="us-east-1"))
    yield emulator
    testing.reset()


@pytest.fixture
def ca(emulator: EmulatorProcess) -> Any:
    """A boto3 codeartifact client on the emulator, retries off (tests see every answer)."""
    return client(emulator.url)
