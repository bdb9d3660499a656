"""Pelican plugins for the csrnews site."""
