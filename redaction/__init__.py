"""Mask-state detection, forensic leak checks, true redaction and verification."""
