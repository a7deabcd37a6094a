"""The database half: read the stamp, replay the chain in a scratch database, compare schemas."""
