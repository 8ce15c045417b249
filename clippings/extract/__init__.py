"""Extraction: bytes + URL in, a `Record` (biblatex fields) and main text out. No network.

`html.extract` is the entry point for web pages (and hands PDFs to `pdf.extract`);
`crossref` and `openlibrary` map those APIs' JSON answers to records.
"""
