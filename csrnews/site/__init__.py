"""The site stage: Pelican builds (incremental), quarantine, plugins."""
