"""All channels of one server process."""

from __future__ import annotations

from core.channel.aiortc_hooks import check_hooks
from core.channel.channel import Channel
from core.channel.names import validate_channel_name
from core.channel.publisher import Publisher


class ChannelRegistry:
    """Channels by (app ID, channel name); one registry per server process.

    A channel exists while anyone (publisher, joiner under way, recorder) is in it or
    holds it; :meth:`channel` creates an empty one on demand.
    """

    def __init__(self) -> None:
        check_hooks()  # the channel server starts here: fail now, not at the first publisher
        self._channels: dict[tuple[str, str], Channel] = {}

    def channel(self, app_id: str, name: str) -> Channel:
        """The channel ``name`` of ``app_id``, created empty if needed.

        Raises :class:`~core.channel.errors.InvalidNameError` for a bad channel name.
        """
        key = (app_id, validate_channel_name(name))
        found = self._channels.get(key)
        if found is None:
            found = self._channels[key] = Channel(app_id, name, self._discard, self._adopt)
        return found

    def get(self, app_id: str, name: str) -> Channel | None:
        """The channel if it exists (without creating it)."""
        return self._channels.get((app_id, name))

    def channels(self) -> list[Channel]:
        """Every existing channel."""
        return list(self._channels.values())

    def whip_sessions(self, app_id: str) -> int:
        """WHIP sessions of ``app_id``: publishers, and joiners being answered."""
        return sum(c.whip_sessions() for c in self._channels.values() if c.app_id == app_id)

    def session(self, session_id: str) -> Publisher | None:
        """The publisher of the WHIP session ``session_id``."""
        for channel in self._channels.values():
            for publisher in channel.publishers():
                if publisher.session_id == session_id:
                    return publisher
        return None

    def _adopt(self, channel: Channel) -> None:
        """Re-register a channel object that was discarded while idle but is used again."""
        key = (channel.app_id, channel.name)
        current = self._channels.setdefault(key, channel)
        if current is not channel:
            raise RuntimeError(
                f"channel {channel.name!r} was replaced while idle; get it again from the registry"
            )

    def _discard(self, channel: Channel) -> None:
        key = (channel.app_id, channel.name)
        if self._channels.get(key) is channel:
            del self._channels[key]

    async def close(self) -> None:
        """Close every channel: publishers leave, subscriptions end."""
        for channel in list(self._channels.values()):
            await channel.close()
        self._channels.clear()
