"""Rich renderings for people, one module per command: render only, never compute."""
