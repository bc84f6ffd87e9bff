"""Everything that knows Slack's wire format: the Bolt app, the HTTP server, listeners, views, messaging."""
