"""Stepladder's control plane: API, web form, job worker and engines."""
