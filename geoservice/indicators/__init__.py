"""Yearly indicators of the certification and the self-management models, per unit."""
