"""Message listeners: plain DMs that continue a conversation (the interview, a review check-in)."""
