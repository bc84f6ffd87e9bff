"""Events API listeners (messages, App Home, files, lifecycle)."""
