"""Platform-neutral bot core shared by the LINE, Telegram and web connectors.

A connector (``line.py``, ``telegram.py``) verifies the platform's request, turns each platform
event into an :class:`Inbound` and hands it to :class:`ChannelCore`. LINE and Telegram events
(webhook or ``bosai telegram-poll``) were de-duplicated when the durable intake stored them
(:meth:`ChannelCore.process`, :mod:`bot.channels.intake`). The core validates and converts the
event into the text Rasa understands, runs it through Rasa's ``on_new_message`` with a :class:`CollectingOutput` and
returns the bot's answers as neutral :class:`BotReply` objects that the connector renders as
platform messages (one reply call on LINE, ``sendMessage`` calls on Telegram).

Conventions (see ``docs/channels.md``):

- location: ``/share_location{"latitude": <float>, "longitude": <float>}``; points outside
  Japan's extent (:data:`gis.extent.JAPAN_BOUNDS`) get :data:`OUTSIDE_JAPAN_TEXT` and nothing
  is forwarded or stored;
- photo: stored EXIF-free (:mod:`bot.channels.photos`) with ``store.save_photo`` and forwarded as
  ``/share_photo{"photo_ref": "<ref>"}`` (intent ``share_photo``, entity/slot ``photo_ref``);
- location request: a button whose payload is exactly ``/share_location`` or a response with
  ``custom: {"location_request": true}`` (optionally ``"text"``) becomes the platform's
  "send my location" control.

Message bodies and coordinates are never logged.

Slightly over 400 lines on purpose: the conversion of every event kind (text, location, photo,
postback), the one path through Rasa and the replies' neutral form are read together when a
channel misbehaves; the texts live in ``texts.py`` and the platforms' own code in their modules.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage

from bot.channels.limits import RATE_LIMITED_TEXT, MessageLimiter
from bot.channels.photos import InvalidPhoto, strip_exif
from bot.channels.texts import (  # what the connectors answer themselves; re-exported
    BAD_LOCATION_TEXT,
    EMERGENCY_TEXT,  # noqa: F401 - re-exported (tests check every text carries it)
    ERROR_TEXT,  # noqa: F401 - re-exported (the intake's apology; tests check it)
    MAX_TEXT_CHARS,
    OUTSIDE_JAPAN_TEXT,
    PHOTO_FAILED_TEXT,
    STICKER_TEXT,
    TOO_LONG_TEXT,
    UNSUPPORTED_TEXT,
    WELCOME_TEXT,
    received_text,
)
from gis.extent import in_japan

logger = logging.getLogger(__name__)


LOCATION_INTENT = "share_location"
PHOTO_INTENT = "share_photo"
PHOTO_ENTITY = "photo_ref"
LOCATION_REQUEST_PAYLOAD = "/" + LOCATION_INTENT
LOCATION_BUTTON_LABEL = "現在地を送る"

#: event kinds that reach Rasa (and count against the resident's rate limit)
FORWARDED_KINDS = frozenset({"text", "postback", "location", "photo"})


def location_payload(latitude: float, longitude: float) -> str:
    """The Rasa message for a shared location."""
    return (
        "/"
        + LOCATION_INTENT
        + json.dumps({"latitude": float(latitude), "longitude": float(longitude)})
    )


def photo_payload(photo_ref: str) -> str:
    """The Rasa message for a stored photo."""
    return "/" + PHOTO_INTENT + json.dumps({PHOTO_ENTITY: photo_ref})


def coerce_coordinates(latitude: Any, longitude: Any) -> tuple[float, float] | None:
    """Finite floats in range, or None."""
    try:
        lat, lon = float(latitude), float(longitude)
    except (TypeError, ValueError):
        return None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):  # also rejects NaN
        return None
    return lat, lon


_PAYLOAD_RE = re.compile(r"^/([A-Za-z0-9_\-]+)(\{.*\})?$", re.DOTALL)


def check_payload(payload: str) -> str | None:
    """Validate a button / postback payload; return a reply text when it must not be forwarded.

    Location payloads are checked against Japan's extent wherever they come from (a postback
    can be forged by a modified client).
    """
    match = _PAYLOAD_RE.match(payload.strip())
    if not match:  # a location intent with a body that is no JSON object: "/share_location[1]"
        head = re.match(r"/([A-Za-z0-9_\-]+)(.*)", payload.strip(), re.DOTALL)
        return BAD_LOCATION_TEXT if head and head.group(1) == LOCATION_INTENT else None
    if match.group(1) != LOCATION_INTENT or not match.group(2):
        return None
    try:
        data = json.loads(match.group(2))
    except (ValueError, RecursionError):  # RecursionError: nested hundreds deep
        return BAD_LOCATION_TEXT
    if not isinstance(data, dict):
        return BAD_LOCATION_TEXT
    coords = coerce_coordinates(data.get("latitude"), data.get("longitude"))
    if coords is None:
        return BAD_LOCATION_TEXT
    if not in_japan(*coords):
        return OUTSIDE_JAPAN_TEXT
    return None


def strip_controls(text: str) -> str:
    """``text`` without control characters (tab and newline kept) and lone surrogates (JSON's
    ``\\ud800`` escape: no UTF-8 text, and PostgreSQL refuses both them and NUL)."""
    return "".join(
        ch for ch in text if (ch in "\n\t" or ch >= " ") and not "\ud800" <= ch <= "\udfff"
    )


def clean_user_text(text: str) -> str:
    """Typed text as Rasa should see it.

    A leading ``/`` would make Rasa treat typed text as an intent with entities (bypassing the
    location checks), so it is replaced by the full-width ``／``. Control characters are removed.
    """
    text = strip_controls(text).strip()
    if text.startswith("/"):
        text = "／" + text[1:]
    return text


# --------------------------------------------------------------------------- responses


@dataclass
class Button:
    title: str
    payload: str

    @property
    def is_location_request(self) -> bool:
        return self.payload.strip() == LOCATION_REQUEST_PAYLOAD


@dataclass
class BotReply:
    """One bot message in platform-neutral form."""

    text: str = ""
    buttons: list[Button] = field(default_factory=list)
    location_request: bool = False
    image: str | None = None

    @property
    def choice_buttons(self) -> list[Button]:
        """Buttons other than the location request."""
        return [b for b in self.buttons if not b.is_location_request]

    @property
    def wants_location(self) -> bool:
        return self.location_request or any(b.is_location_request for b in self.buttons)


class CollectingOutput(OutputChannel):
    """Collects Rasa's responses to one user message as :class:`BotReply` objects."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.replies: list[BotReply] = []

    def name(self) -> str:  # type: ignore[override]
        return self.channel

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        raw_buttons = message.get("buttons") or message.get("quick_replies") or []
        buttons = [
            Button(str(b.get("title", "")), str(b.get("payload", "")))
            for b in raw_buttons
            if isinstance(b, dict) and b.get("title") and b.get("payload")
        ]
        text = str(message.get("text") or "")
        custom = message.get("custom")
        location_request = False
        if isinstance(custom, dict):
            if custom.get("location_request"):
                location_request = True
                if not text and custom.get("text"):
                    text = str(custom["text"])
            if isinstance(custom.get("buttons"), list) and not buttons:
                buttons = [
                    Button(str(b.get("title", "")), str(b.get("payload", "")))
                    for b in custom["buttons"]
                    if isinstance(b, dict) and b.get("title") and b.get("payload")
                ]
        image = message.get("image")
        if location_request and not text and not buttons and self.replies:
            # Rasa's REST channel returns ``custom`` apart from the text it belongs to
            last = self.replies[-1]
            if not last.image:
                last.location_request = True
                location_request = False
                if not image:
                    return
        if text or buttons or location_request:
            self.replies.append(
                BotReply(
                    text=text or LOCATION_BUTTON_LABEL,
                    buttons=buttons,
                    location_request=location_request,
                )
            )
        if isinstance(image, str) and image:
            self.replies.append(BotReply(image=image))

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        self.replies.append(BotReply(text=text))


# --------------------------------------------------------------------------- inbound


@dataclass
class Inbound:
    """One platform event in neutral form.

    ``kind`` is one of ``text``, ``location``, ``photo``, ``postback``, ``sticker``, ``follow``,
    ``unfollow``, ``unsupported``. ``photo_loader`` downloads the image bytes and content type.
    """

    kind: str
    user_id: str
    message_id: str | None = None
    text: str = ""
    latitude: Any = None
    longitude: Any = None
    photo_loader: Callable[[], Awaitable[tuple[bytes, str]]] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    """What the core did with one event."""

    forwarded: str | None = None  # the Rasa text sent (never logged)
    replies: list[BotReply] = field(default_factory=list)


def _default_store() -> Any:
    from bot.store import get_store

    return get_store()


async def resident_address(store_factory: Callable[[], Any] | None, sender: str) -> str | None:
    """The raw platform id to push to for a pseudonymous sender id (None: never wrote here)."""
    factory = store_factory or _default_store
    return await asyncio.to_thread(lambda: factory().address_of(sender))


class ChannelCore:
    """Turns :class:`Inbound` events into Rasa messages and collects the answers.

    Parameters
    ----------
    channel
        Channel name (``line``, ``telegram``): the Rasa ``input_channel`` and the store's channel.
    on_new_message
        Rasa's handler given to ``InputChannel.blueprint`` (or any coroutine taking a
        ``UserMessage``).
    store_factory
        Returns the report store (``bot.store.get_store`` by default); its blocking calls run in
        the default executor.
    """

    def __init__(
        self,
        channel: str,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        store_factory: Callable[[], Any] = _default_store,
        limiter: MessageLimiter | None = None,
    ) -> None:
        self.channel = channel
        self.on_new_message = on_new_message
        self.store_factory = store_factory
        self._limiter = limiter

    @property
    def limiter(self) -> MessageLimiter:
        if self._limiter is None:
            self._limiter = MessageLimiter()
        return self._limiter

    async def _store_call(self, method: str, *args: Any) -> Any:
        loop = asyncio.get_running_loop()

        def call() -> Any:
            return getattr(self.store_factory(), method)(*args)

        return await loop.run_in_executor(None, call)

    async def resident(self, user_id: str) -> str:
        return str(await self._store_call("resident_id", self.channel, user_id))

    async def sender(self, user_id: str) -> str:
        """The sender id Rasa sees (``<channel>:<pseudonym>``, :mod:`bot.identity`); the raw
        id is kept only in the address table, for replies and pushes."""
        sender = str(await self._store_call("sender_id", self.channel, user_id))
        await self._store_call("remember_address", sender, user_id)
        return sender

    async def save_photo(self, data: bytes, content_type: str) -> str:
        return str(await self._store_call("save_photo", data, content_type))

    async def process(self, event: Inbound) -> Outcome:
        """Process one event the durable intake stored (already de-duplicated when it was
        stored, :mod:`bot.store.intake`); raises when it fails, so that the worker retries it
        (and, after its last try, answers with the apology and 119/110).
        """
        sender = await self.sender(event.user_id)
        resident = sender.split(":", 1)[1]

        if event.kind in FORWARDED_KINDS and not await self.limiter.allow(sender):
            logger.info("%s: a resident is over the message rate limit", self.channel)
            return Outcome(replies=[BotReply(text=RATE_LIMITED_TEXT)])

        text: str | None = None
        if event.kind == "text":
            if len(event.text) > MAX_TEXT_CHARS:
                return Outcome(replies=[BotReply(text=TOO_LONG_TEXT)])
            text = clean_user_text(event.text)
            if not text:  # only control characters: nothing for Rasa, but never silence
                return Outcome(replies=[BotReply(text=received_text(event.kind))])
        elif event.kind == "postback":
            payload = event.text.strip()
            if not payload or len(payload) > MAX_TEXT_CHARS:
                return Outcome(replies=[BotReply(text=UNSUPPORTED_TEXT)])
            problem = check_payload(payload)
            if problem:
                return Outcome(replies=[BotReply(text=problem)])
            text = payload
        elif event.kind == "location":
            coords = coerce_coordinates(event.latitude, event.longitude)
            if coords is None:
                return Outcome(replies=[BotReply(text=BAD_LOCATION_TEXT)])
            if not in_japan(*coords):
                logger.info("%s: a location outside Japan was refused", self.channel)
                return Outcome(replies=[BotReply(text=OUTSIDE_JAPAN_TEXT)])
            text = location_payload(*coords)
        elif event.kind == "photo":
            if event.photo_loader is None:
                return Outcome(replies=[BotReply(text=PHOTO_FAILED_TEXT)])
            try:
                data, _content_type = await event.photo_loader()
                clean, clean_type = await asyncio.get_running_loop().run_in_executor(
                    None, strip_exif, data
                )
            except InvalidPhoto:
                return Outcome(replies=[BotReply(text=PHOTO_FAILED_TEXT)])
            ref = await self.save_photo(clean, clean_type)
            text = photo_payload(ref)
        elif event.kind == "sticker":
            return Outcome(replies=[BotReply(text=STICKER_TEXT)])
        elif event.kind == "follow":
            return Outcome(
                replies=[
                    BotReply(
                        text=WELCOME_TEXT,
                        buttons=[Button(LOCATION_BUTTON_LABEL, LOCATION_REQUEST_PAYLOAD)],
                    )
                ]
            )
        elif event.kind == "unfollow":
            logger.info("%s: a resident unfollowed", self.channel)
            # nothing can be pushed to them any more: their raw id is not kept either
            await self._store_call("forget_address", sender)
            return Outcome()
        else:
            return Outcome(replies=[BotReply(text=UNSUPPORTED_TEXT)])

        output = CollectingOutput(self.channel)
        metadata = dict(event.metadata)
        metadata.update({"channel": self.channel, "resident": resident})
        message = UserMessage(
            text,
            output,
            sender,
            input_channel=self.channel,
            message_id=event.message_id,
            metadata=metadata,
        )
        await self.on_new_message(message)
        # a turn that answered nothing (a rule predicting only action_listen, ...) is never
        # silence for the resident: an honest acknowledgement with 119/110 instead
        replies = output.replies or [BotReply(text=received_text(event.kind))]
        return Outcome(forwarded=text, replies=replies)
