"""Local stand-ins for Slack, used by ``icp demo`` and the tests; nothing here reaches the cloud."""
