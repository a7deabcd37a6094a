"""Reading git in bulk: the repository handle, one history walk, one cat-file session, unreachable objects, the cache."""
