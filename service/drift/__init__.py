"""Drift: checking that the cloud still matches what Stepladder applied, and reconciling."""
