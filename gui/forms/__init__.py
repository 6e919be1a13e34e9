"""Forms of the window, generated from the config models of ``core.config``."""
