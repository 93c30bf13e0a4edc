"""tempaug.analysis."""
