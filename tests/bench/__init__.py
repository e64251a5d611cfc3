"""Accuracy and speed benchmark over a generated corpus (``make bench``)."""
