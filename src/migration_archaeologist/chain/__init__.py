"""Judging the chain as Alembic would: the catalog of sightings, the down_revision graph, lost or retired, check, timeline."""
