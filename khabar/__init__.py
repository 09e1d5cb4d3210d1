"""khabar: streaming ingestion for Arabic news.

The pure processing core lives here (text normalization, deduplication,
language identification, event extraction); the Faust app, agents and CLI live
in :mod:`streams`; the record models in :mod:`schemas`.
"""

__version__ = "0.1.0"
