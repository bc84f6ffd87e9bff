"""Interview use cases: role-aware question sets and the conversation state machine."""
