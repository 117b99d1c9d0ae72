"""Shared fixtures: one emulator process per test session, reset before each test that uses it."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from tests.emulator_harness import EmulatorProcess, client, start_emulator


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
def ca(emulator: EmulatorProcess) -> Any:
    """A boto3 codeartifact client on the emulator, retries off (tests see every answer)."""
    return client(emulator.url)
