"""Clients of the channel: the WHIP publisher, synthetic media, bots, and the analysis
that reads their colour and tone markers back from a recording."""
