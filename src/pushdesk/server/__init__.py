"""The embedded web server that phones and browsers talk to."""
