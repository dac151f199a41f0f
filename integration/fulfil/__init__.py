"""Everything that talks to Fulfil: the httpx client, the `__class__` wire encoding, typed errors."""
