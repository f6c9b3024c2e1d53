"""`python -m mirror` runs the docmirror command."""

from mirror.cli import main

main()
