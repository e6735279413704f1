"""For operators: Prometheus metrics, the health endpoint and JSON logs (no Discord here)."""
