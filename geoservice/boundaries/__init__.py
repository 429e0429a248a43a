"""Building Vietnam's administrative boundaries and border communes from registry packages."""
