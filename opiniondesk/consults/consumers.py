"""The consult's signalling connection (SPEC §7, §11.4–7).

It relays WebRTC signalling between the two sides and carries the room's state; it calls the
services (through `database_sync_to_async`) for every change and keeps no state of its own that
another server process would need: the database and the channel layer's group are the truth.
Audio and video never pass here. The server's clock decides: each side's connection warns its
page and ends the call at the limit (and a task does, should no page be open).
"""

import asyncio
import json
import logging
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.core import signing
from django.utils import timezone

from opiniondesk.accounts import activity
from opiniondesk.accounts.models import Role
from opiniondesk.consults import clock, selectors, services, tasks
from opiniondesk.consults.errors import ConsultError
from opiniondesk.consults.models import Consult, ConsultState, EndReason, Side

# One line when a room's connection opens and when it closes, with the connection's request id
# (core/logs.py): which worker process holds whom, for the operators of several workers.
logger = logging.getLogger("opiniondesk.consults")

TOKEN_SALT = "opiniondesk.consults.join"  # noqa: S105 (a namespace for signing, no secret)
TOKEN_MAX_AGE = 10 * 60  # seconds: the page fetches a new one to reconnect
MAX_MESSAGE_CHARS = 64 * 1024  # an SDP offer with many candidates fits easily
MAX_MESSAGES_PER_MINUTE = 600
CLOSE_REFUSED, CLOSE_TAKEN_OVER, CLOSE_BAD, CLOSE_GONE = 4009, 4010, 4400, 4404
ACTIONS = {"hello", "ping", "signal", "call_in", "present", "start", "end", "message", "notes"}
# The patient's page pings every 10 s; its heartbeat is written at most this often, which keeps
# it well inside selectors.STALE_AFTER (45 s) without a database write per ping.
SEEN_EVERY = timedelta(seconds=20)
OPEN_STATES = (ConsultState.WAITING, ConsultState.CALLED, ConsultState.IN_CALL)


def join_token(consult_id: int, user_id: int) -> str:
    """A short-lived, signed permission for this user to connect to this consult."""
    return signing.dumps({"c": consult_id, "u": user_id}, salt=TOKEN_SALT, compress=True)


def token_is_valid(token: str, consult_id: int, user_id: int) -> bool:
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        return False
    return isinstance(data, dict) and data.get("c") == consult_id and data.get("u") == user_id


def lobby_group(specialist_id: int) -> str:
    return f"lobby.{specialist_id}"


class ConsultConsumer(AsyncWebsocketConsumer):
    consult_id: int
    side: Side

    async def connect(self) -> None:
        user = self.scope.get("user")
        self.consult_id = int(self.scope["url_route"]["kwargs"]["consult_id"])
        self.timers: list[asyncio.TimerHandle] = []
        self.running: set[asyncio.Future[Any]] = set()
        self.joined, self.received, self.window = False, 0, 0.0
        self.kept_alive_at = 0.0
        token = _query(self.scope).get("token", "")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close()
            return
        side = await self._side(user)
        if side is None or not token_is_valid(token, self.consult_id, user.pk):
            await self.close()  # before accept: the handshake is refused
            return
        self.user, self.side = user, side
        await self.accept()
        logger.info(
            "consult %s: %s side connected",
            self.consult_id,
            side.value,
        )
        if side is Side.HOSPITAL:
            await self._join_hospital()
        # The patient's side joins with its first message, which names the device.

    async def disconnect(self, code: int) -> None:
        for timer in getattr(self, "timers", []):
            timer.cancel()
        if hasattr(self, "side"):
            logger.info(
                "consult %s: %s side closed (%s)",
                self.consult_id,
                self.side.value,
                code,
            )
        if getattr(self, "in_group", False):
            await self.channel_layer.group_discard(
                tasks.group_name(self.consult_id), self.channel_name
            )
        if not getattr(self, "joined", False):
            return
        left = await database_sync_to_async(services.leave)(
            consult_id=self.consult_id, channel=self.channel_name, user=self.user
        )
        if left is not None:
            await self._refresh_all()

    # From the page.

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        message = self._parse(text_data)
        if message is None:
            await self.close(code=CLOSE_BAD)
            return
        kind = message["type"]
        if kind == "hello":
            await self._hello(message)
        elif not self.joined:
            await self.close(code=CLOSE_BAD)
        elif kind == "ping":
            await self._pong(message)
        elif kind == "signal":
            await self._relay(message)
        else:
            await self._act(kind, message)

    def _parse(self, text: str | None) -> dict[str, Any] | None:
        now = asyncio.get_running_loop().time()
        if now - self.window > 60:
            self.window, self.received = now, 0
        self.received += 1
        if text is None or len(text) > MAX_MESSAGE_CHARS or self.received > MAX_MESSAGES_PER_MINUTE:
            return None
        try:
            message = json.loads(text)
        except ValueError:
            return None
        if not isinstance(message, dict) or message.get("type") not in ACTIONS:
            return None
        return message

    async def _hello(self, message: dict[str, Any]) -> None:
        if self.side is not Side.PATIENT or self.joined:
            return
        device = message.get("device")
        if not isinstance(device, str) or not 8 <= len(device) <= 64:
            await self.close(code=CLOSE_BAD)
            return
        await self._group_add()
        try:
            outcome, old = await database_sync_to_async(services.patient_join)(
                consult_id=self.consult_id,
                user=self.user,
                channel=self.channel_name,
                device=device,
                takeover=message.get("takeover") is True,
            )
        except ConsultError as exc:
            await self._send({"type": "closed", "reason": exc.code, "message": str(exc.message)})
            await self.close(code=CLOSE_GONE)
            return
        if outcome is services.Joined.REFUSED:
            await self._send({"type": "refused", "reason": "another_device"})
            await self.close(code=CLOSE_REFUSED)
            return
        await self._joined(old)
        specialist, case = await database_sync_to_async(
            lambda: Consult.objects.values_list("specialist_id", "case_id").get(pk=self.consult_id)
        )()
        await self.channel_layer.group_send(
            lobby_group(specialist), {"type": "arrived", "consult": self.consult_id, "case": case}
        )
        await self._refresh_all()

    async def _join_hospital(self) -> None:
        await self._group_add()
        try:
            old = await database_sync_to_async(services.hospital_join)(
                consult_id=self.consult_id, user=self.user, channel=self.channel_name
            )
        except ConsultError as exc:
            await self._send({"type": "closed", "reason": exc.code, "message": str(exc.message)})
            await self.close(code=CLOSE_GONE)
            return
        await self._joined(old)
        await self._refresh_all()

    async def _group_add(self) -> None:
        """Into the consult's group before the join is in the database: from then on the other
        side may answer it (the hospital's offer to a reloaded page), prompted by a refresh that
        another connection or server process sends, and that must not miss this connection.
        What arrives before the join is done waits (one message at a time); a signal or a chat
        is passed on only once joined."""
        await self.channel_layer.group_add(tasks.group_name(self.consult_id), self.channel_name)
        self.in_group = True

    async def _joined(self, replaced: str) -> None:
        self.joined, self.seen_at = True, timezone.now()  # joining wrote the heartbeat
        if replaced:  # the connection this one replaces is told, and closes
            await self.channel_layer.send(replaced, {"type": "taken.over"})

    async def _pong(self, message: dict[str, Any]) -> None:
        now = timezone.now()
        if self.side is Side.PATIENT and now - self.seen_at >= SEEN_EVERY:
            await database_sync_to_async(services.heard_from)(
                consult_id=self.consult_id, channel=self.channel_name
            )
            self.seen_at = now
        if now.timestamp() - self.kept_alive_at >= activity.ACTIVITY_RESOLUTION_SECONDS:
            self.kept_alive_at = now.timestamp()
            await database_sync_to_async(self._keep_session_alive)(now)
        seq = message.get("seq")
        await self._send({"type": "pong", "seq": seq, "server_now": timezone.now().isoformat()})

    def _keep_session_alive(self, now: datetime) -> None:
        """Waiting and talking are activity (accounts.activity), while the consult is open: a
        room page left open after the end does not keep a session alive."""
        if Consult.objects.filter(pk=self.consult_id, state__in=OPEN_STATES).exists():
            session = self.scope.get("session")
            key = getattr(session, "session_key", None)
            activity.keep_alive(session_key=key, user=self.user, now=now.timestamp())

    async def _relay(self, message: dict[str, Any]) -> None:
        payload = message.get("payload")
        if not isinstance(payload, dict):
            await self.close(code=CLOSE_BAD)
            return
        sdp = payload.get("sdp")
        # Only the hospital side starts (and restarts) the call (§11.4).
        if isinstance(sdp, dict) and sdp.get("type") == "offer" and self.side is not Side.HOSPITAL:
            return
        await self.channel_layer.group_send(
            tasks.group_name(self.consult_id),
            {
                "type": "relay",
                "from": self.channel_name,
                "side": self.side.value,
                "payload": payload,
            },
        )

    async def _act(self, kind: str, message: dict[str, Any]) -> None:
        call = {
            "call_in": lambda: services.call_in(consult_id=self.consult_id, user=self.user),
            "present": lambda: services.confirm_present(
                consult_id=self.consult_id, user=self.user, people=message.get("people")
            ),
            "start": lambda: services.call_start(consult_id=self.consult_id, user=self.user),
            "end": lambda: services.call_end(
                consult_id=self.consult_id, user=self.user, reason=EndReason.SPECIALIST
            ),
            "message": lambda: services.message_post(
                consult_id=self.consult_id, user=self.user, text=str(message.get("text", ""))
            ),
            "notes": lambda: services.notes_save(
                consult_id=self.consult_id, user=self.user, text=str(message.get("text", ""))
            ),
        }[kind]
        try:
            result = await database_sync_to_async(call)()
        except ConsultError as exc:
            await self._send({"type": "error", "action": kind, "message": str(exc.message)})
            return
        if kind == "message":
            await self.channel_layer.group_send(
                tasks.group_name(self.consult_id),
                {
                    "type": "chat",
                    "side": result.side,
                    "text": result.text,
                    "at": result.at.isoformat(),
                },
            )
        elif kind == "notes":
            await self._send({"type": "notes_saved", "at": result.notes_saved_at.isoformat()})
        else:
            await self._refresh_all()

    # From the group (the other side's connection, a task, another server process).

    async def refresh(self, event: dict[str, Any]) -> None:
        state = await self._state()
        if state is None:
            return
        await self._send(state)
        self._schedule(state)
        if state["state"] in (ConsultState.ENDED, ConsultState.NO_SHOW):
            await self.close()

    async def relay(self, event: dict[str, Any]) -> None:
        if event["from"] != self.channel_name and event["side"] != self.side.value and self.joined:
            await self._send({"type": "signal", "payload": event["payload"]})

    async def chat(self, event: dict[str, Any]) -> None:
        if self.joined:
            await self._send({k: event[k] for k in ("type", "side", "text", "at")})

    async def taken_over(self, event: dict[str, Any]) -> None:
        self.joined = False  # the new connection is the one that counts now
        await self._send({"type": "taken_over"})
        await self.close(code=CLOSE_TAKEN_OVER)

    # The clock.

    def _schedule(self, state: dict[str, Any]) -> None:
        for timer in self.timers:
            timer.cancel()
        self.timers = []
        if state["state"] != ConsultState.IN_CALL or not state["limit_at"]:
            return
        loop, now = asyncio.get_running_loop(), timezone.now()
        for alert in state["alerts"]:
            delay = (datetime.fromisoformat(alert["at"]) - now).total_seconds()
            if delay > 0:
                kind = clock.Warning(alert["kind"])
                self.timers.append(loop.call_later(delay, self._spawn, self._warn, kind))
        delay = max(0.0, (datetime.fromisoformat(state["limit_at"]) - now).total_seconds())
        self.timers.append(loop.call_later(delay + 0.05, self._spawn, self._end_at_limit))

    def _spawn(self, start: Any, *args: Any) -> None:
        task = asyncio.ensure_future(start(*args))
        self.running.add(task)  # kept until done, so it is not collected half-way
        task.add_done_callback(self.running.discard)

    async def _warn(self, kind: clock.Warning) -> None:
        await database_sync_to_async(services.warning_given)(consult_id=self.consult_id, kind=kind)
        await self._send({"type": "warning", "kind": kind.value})

    async def _end_at_limit(self) -> None:
        try:
            await database_sync_to_async(services.call_end)(
                consult_id=self.consult_id, user=None, reason=EndReason.LIMIT
            )
        except ConsultError:
            return
        await self._refresh_all()

    # Helpers.

    async def _refresh_all(self) -> None:
        await self.channel_layer.group_send(tasks.group_name(self.consult_id), {"type": "refresh"})

    async def _state(self) -> dict[str, Any] | None:
        def read() -> dict[str, Any] | None:
            consult = Consult.objects.select_related("case").filter(pk=self.consult_id).first()
            if consult is None:
                return None
            return selectors.snapshot(consult, now=timezone.now())

        return await database_sync_to_async(read)()

    async def _side(self, user: Any) -> Side | None:
        def read() -> Side | None:
            consult = Consult.objects.select_related("case").filter(pk=self.consult_id).first()
            return None if consult is None else services.side_of(user, consult)

        return await database_sync_to_async(read)()

    async def _send(self, message: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(message, ensure_ascii=False))


class LobbyConsumer(AsyncWebsocketConsumer):
    """The specialist's list of today's consults: told when a patient arrives."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not _is_specialist(user):
            await self.close()
            return
        self.group = lobby_group(user.pk)
        await self.accept()
        await self.channel_layer.group_add(self.group, self.channel_name)

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await self.close(code=CLOSE_BAD)  # it only listens

    async def arrived(self, event: dict[str, Any]) -> None:
        message = {"type": "arrived", "consult": event["consult"], "case": event["case"]}
        await self.send(text_data=json.dumps(message))


def _is_specialist(user: Any) -> bool:
    return bool(user.is_active and user.role == Role.SPECIALIST)


def _query(scope: dict[str, Any]) -> dict[str, str]:
    return dict(parse_qsl(scope.get("query_string", b"").decode("ascii", "replace")))
