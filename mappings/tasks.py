"""Background jobs for maps and the catalog cache (thin: they call services)."""

from mappings.services import catalog_sync


def catalog_sync_task(models: list[str] | None = None) -> str:
    runs = catalog_sync(models=models)
    return ", ".join(
        f"{r.model}: +{r.created} ~{r.updated} -{r.deactivated}{' FAILED' if r.error else ''}" for r in runs
    )
