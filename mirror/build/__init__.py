"""A build: what the mirror holds, the data folder, and the stages from fetching to the site."""
