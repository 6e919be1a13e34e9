"""Dialogs of the window; each opens without a nested event loop (see ``ask``)."""
