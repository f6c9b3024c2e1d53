"""The site: rendering pages with Jinja2, and serving the built site."""
