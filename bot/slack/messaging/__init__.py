"""Slack effects of the use cases: posting DMs, drafts, chat answers, interview questions, files."""
