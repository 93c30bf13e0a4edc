"""tempaug.train."""
