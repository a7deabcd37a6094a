"""Revision files rebuilt from ``.pyc`` bytecode, without executing it."""
