"""Scripts the programs ship to AWS (Systems Manager runs them), kept as modules to test."""
