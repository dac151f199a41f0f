"""POS simulator: the read APIs of Shopify, Square and X-Series under /sandbox/pos/, and the data
`manage.py simulate_pos` generates for them."""
