"""Fixtures for the Teams adapter tests: the loopback Bot Connector stand-in, and a check
that every Adaptive Card the bot sent through it is valid against the official schema."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.teams.card_schema import card_problems
from tests.teams.connector_stub import ConnectorStub

CARD_VERSION = "1.5"


@pytest.fixture
def connector() -> Iterator[ConnectorStub]:
    stub = ConnectorStub().start()
    try:
        yield stub
        problems = [
            f"card {index}: {problem}"
            for index, sent in enumerate(stub.cards())
            for problem in card_problems(sent, CARD_VERSION)
        ]
        assert not problems, "the bot sent invalid Adaptive Cards:\n" + "\n".join(problems)
    finally:
        stub.stop()
