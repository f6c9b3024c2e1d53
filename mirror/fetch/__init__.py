"""Fetching: concurrent HTTP with retries, politeness and robots.txt. Network I/O only."""
