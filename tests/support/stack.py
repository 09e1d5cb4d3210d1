"""Real workers against the real embedded broker, for end-to-end tests.

The harness itself lives in :mod:`streams.cluster` (``khabar bench`` uses it
too); this module keeps the names the tests import.
"""

from __future__ import annotations

from streams.cluster import (
    Stack,
    Worker,
    accounted_ids,
    output_id_fields,
    settings_env,
    unique_settings,
)

__all__ = ["Stack", "Worker", "accounted_ids", "output_id_fields", "settings_env", "unique_settings"]
