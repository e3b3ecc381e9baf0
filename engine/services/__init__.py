"""Use-cases. Each takes a session first, flushes but never commits: the caller owns the transaction."""
