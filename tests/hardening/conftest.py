"""Hardening tests reuse the ingestion fixtures (the three simulated POS sources) and the engine's
`till` (a source mapped onto the Fulfil sandbox's stores)."""

from tests.pipeline.conftest import till
from tests.pos.conftest import pos

__all__ = ["pos", "till"]
