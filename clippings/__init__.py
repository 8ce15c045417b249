"""clippings: a BibTeX bibliography and press-clipping manager."""

__version__ = "0.1.0"
