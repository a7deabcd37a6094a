"""One revision file, read statically (ast and tokenize, never imported): header, values, ops, the pool that parses many."""
