"""tempaug.models."""
