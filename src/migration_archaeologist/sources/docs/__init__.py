"""Documents as evidence: revision IDs named in prose, and what they claim, checked against the catalog."""
