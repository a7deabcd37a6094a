"""Revision files kept outside git: backup folders, zip/tar archives, archives inside those, git bundles."""
