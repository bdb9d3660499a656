"""Allow `python -m csrnews`."""

from csrnews.cli import main

main()
