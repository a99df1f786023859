"""The device check's connection test: the page pings, the server answers at once."""

import json

from channels.generic.websocket import AsyncWebsocketConsumer

# The page sends about five pings; a few more allow a retry, and nothing else is accepted.
MAX_MESSAGES = 30
MAX_MESSAGE_CHARS = 200


class DeviceCheckConsumer(AsyncWebsocketConsumer):
    """Answers {"type": "ping", "seq": n} with {"type": "pong", "seq": n} for signed-in users.

    No database work and no channel layer: the round trip measured is the network's and the
    server's, as the video call's signalling will see it.
    """

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close()  # before accept: the handshake is refused with 403
            return
        self.received = 0
        await self.accept()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        self.received += 1
        seq = _ping_seq(text_data)
        if seq is None or self.received > MAX_MESSAGES:
            await self.close(code=4400)
            return
        await self.send(text_data=json.dumps({"type": "pong", "seq": seq}))


def _ping_seq(text: str | None) -> int | None:
    if text is None or len(text) > MAX_MESSAGE_CHARS:
        return None
    try:
        message = json.loads(text)
    except ValueError:
        return None
    if not isinstance(message, dict) or message.get("type") != "ping":
        return None
    seq = message.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq < 1000:
        return None
    return seq
