"""Editable enrichment data files (YAML); a package only so that wheels include them."""
