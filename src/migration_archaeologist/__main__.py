"""Run the CLI as ``python -m migration_archaeologist``."""

from migration_archaeologist.cli import main

if __name__ == "__main__":
    main()
