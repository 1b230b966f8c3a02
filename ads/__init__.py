"""ads package."""
