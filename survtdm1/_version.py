"""The package version (floor 0: imported by the runner and the package root)."""

__version__ = "0.1.0"
