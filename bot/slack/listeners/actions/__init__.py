"""Block Kit interaction listeners (buttons in messages and in the App Home)."""
