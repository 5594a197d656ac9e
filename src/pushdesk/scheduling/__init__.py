"""Deciding what is due and sending it."""
