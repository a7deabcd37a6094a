"""Low-level file safety: reading files we did not write, writing files whole or not at all."""
