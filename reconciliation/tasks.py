"""Scheduled reconciliation jobs: thin, they call the services."""

from reconciliation import services


def reconciliation_nightly() -> str:
    """Hourly: each source's previous business day, once, soon after its own midnight."""
    done = services.nightly_generate()
    return f"generated {len(done)} source-day(s): {done}"


def reconciliation_regenerate_stale() -> str:
    """Every few minutes: days where late transactions posted after their report."""
    return f"regenerated {services.stale_days_regenerate()} store-day(s)"
