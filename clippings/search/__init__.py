"""Full-text search. Every `whoosh` import of the project lives in this package, so
the engine (whoosh3) can be replaced without touching the rest.

- `analysis`: the analyzers (German, Russian, transliteration keys) for the schema;
- `decompound`: German compound splitting with a shipped noun dictionary.
"""
