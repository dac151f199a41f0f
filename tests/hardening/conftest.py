"""Hardening tests reuse the ingestion fixtures (the three simulated POS sources)."""

from tests.pos.conftest import pos

__all__ = ["pos"]
