"""The service as plain functions (no Flask): collections, features, tiles, analyses, search.

`geoservice.web` blueprints only adapt HTTP to these functions.
"""
