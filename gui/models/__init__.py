"""Qt models of the window and the SDK observer that feeds them."""
