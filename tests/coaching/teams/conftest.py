"""The Teams harness for the coaching tests: the Bot Connector stand-in (every card checked
against the Adaptive Card schema) and the live app."""

from tests.teams.conftest import connector, live, migrated_url  # noqa: F401
