"""Custom widgets of the window."""
