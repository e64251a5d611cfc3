"""hokenmask pipeline: ingest → normalize → ocr → classify → locate → detect → extract → judge."""

__version__ = "0.1.0"
