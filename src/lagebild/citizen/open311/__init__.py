"""Open311 GeoReport v2: the public server (views, urls) and the import client (client)."""
