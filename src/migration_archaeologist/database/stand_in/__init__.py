"""Stand-ins: a revision written from the live database when no copy survives, and the proof that it holds."""
