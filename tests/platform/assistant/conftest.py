"""The assistant core's fixture (the demo cluster) for its pages."""

from tests.assistant.conftest import demo  # noqa: F401
