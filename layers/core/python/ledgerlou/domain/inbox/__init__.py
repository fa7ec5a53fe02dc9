"""The document inbox — reserved: mail ingestion, extraction, review cases and the ingestion log will
live here.
"""
