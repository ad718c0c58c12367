"""One `pulumi.ComponentResource` per concern; `programs.stack` decides which exist at a tier."""
