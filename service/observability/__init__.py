"""What the service tells its operators: metrics for Prometheus, and the log format."""
