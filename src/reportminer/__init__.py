"""reportminer: mine German meeting reports for people, places, organisations, dates and themes."""

__version__ = "0.1.0"
