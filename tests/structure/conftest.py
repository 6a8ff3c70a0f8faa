"""The Slack and Teams fixtures, shared with the structure measurements."""

from tests.slack.conftest import app_factory, settings, slack_api  # noqa: F401
from tests.teams.conftest import migrated_url  # noqa: F401
