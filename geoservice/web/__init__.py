"""HTTP interfaces: one blueprint per interface."""
