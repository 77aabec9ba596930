"""debate: a sparring partner that argues a motion only from cited evidence."""

__version__ = "0.1.0"
