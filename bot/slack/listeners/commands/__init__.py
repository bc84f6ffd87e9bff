"""Slash command listeners (one Bolt listener per Slack command)."""
