"""Ephemeral environments: an expiry on the definition, a warning the day before, and a destroy
through the normal operations path once it passes."""
