"""Search: word analysis, the ranking, the whoosh index and its static export for the site."""
