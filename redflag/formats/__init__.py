"""Adapters between bytes or text and core objects; they know file formats, not terminals."""
