"""cf package."""
