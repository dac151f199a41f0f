"""Writes on the sandbox from Python: the fault knobs, and direct estate building for the seed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from integration.sandbox.models import SandboxFaults

KNOBS = {
    "latency_ms",
    "rate_limit_share",
    "retry_after_seconds",
    "server_error_share",
    "commit_timeout_share",
    "user_error_codes",
    "tax_rounding",
    "seed",
}


def sandbox_faults_get() -> SandboxFaults:
    faults, _ = SandboxFaults.objects.get_or_create(pk=1)
    return faults


def sandbox_faults_set(**knobs: Any) -> SandboxFaults:
    """Set some knobs, keep the rest: `sandbox_faults_set(rate_limit_share=0.5, retry_after_seconds=1)`."""
    unknown = set(knobs) - KNOBS
    if unknown:
        raise TypeError(f"Unknown sandbox fault knobs: {', '.join(sorted(unknown))}")
    faults = sandbox_faults_get()
    for name, value in knobs.items():
        if name.endswith(("_share", "_seconds")):
            value = Decimal(str(value))
            if name.endswith("_share") and not Decimal("0") <= value <= Decimal("1"):
                raise ValueError(f"{name} is a share between 0 and 1")
        if name == "user_error_codes":
            value = sorted({str(code).strip() for code in value if str(code).strip()})
        if name == "tax_rounding" and value not in SandboxFaults.TaxRounding.values:
            raise ValueError("tax_rounding is 'line' or 'order'")
        setattr(faults, name, value)
    faults.save()
    return faults


def sandbox_faults_reset(*, seed: int = 0) -> SandboxFaults:
    """Every fault off, tax rounded per line, the random stream restarted from `seed`."""
    faults = sandbox_faults_get()
    defaults = SandboxFaults()
    for name in KNOBS:
        setattr(faults, name, getattr(defaults, name))
    faults.seed = seed
    faults.save()
    return faults
