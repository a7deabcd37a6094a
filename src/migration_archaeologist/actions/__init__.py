"""What the tool does to a project: restore, recover, synthesize, verify; the manifest and the lock that keep writes safe."""
