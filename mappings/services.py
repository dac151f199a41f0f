"""Writes for maps and the Fulfil catalog cache."""

from mappings.catalog_sync import catalog_sync

__all__ = ["catalog_sync"]
