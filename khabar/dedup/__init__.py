"""Deduplication core: fingerprints (:class:`Probe`) and the sequencer's index.

Pure code, no Kafka: ``make_probe`` runs next to the normalization pass,
``DedupIndex.decide`` in the single sequencer, in arrival order.
"""

from khabar.dedup.codec import CorruptEntryError
from khabar.dedup.index import DedupIndex, Verdict
from khabar.dedup.probe import Probe, make_probe
from khabar.dedup.url import canonical_url

__all__ = ["CorruptEntryError", "DedupIndex", "Probe", "Verdict", "canonical_url", "make_probe"]
