"""tempaug.data."""
