"""POS adapters: signature checks, one normalizer per platform, the POS API client, pollers.

Everything here turns what a till sent into `canonical.CanonicalTransaction`; only
integration/services.py writes it to the database.
"""
