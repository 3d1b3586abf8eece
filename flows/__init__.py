"""Prefect flows composing reportminer's plain pipeline functions (installed as ``reportminer_flows``)."""
