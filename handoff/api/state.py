"""What the app's lifespan builds and every request shares."""

from __future__ import annotations

from dataclasses import dataclass, field

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from handoff.events import EventBus, LiveHub
from handoff.exported_labels import ExportedLabels
from handoff.rasa_client import RasaClient
from handoff.ratelimit import LoginLimiter
from handoff.security import PasswordPool, Signer
from handoff.services.conversations import ConversationService
from handoff.settings import Settings
from handoff.shop_client import ShopClient
from handoff.tracker_store import TrackerStore
from handoff.ws_tickets import TicketBook


@dataclass
class Services:
    """Clients and services of one running app (one per replica)."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    bus: EventBus
    hub: LiveHub
    rasa: RasaClient
    conversations: ConversationService
    limiter: LoginLimiter
    signer: Signer
    passwords: PasswordPool
    tracker_store: TrackerStore
    exported_labels: ExportedLabels
    tickets: TicketBook
    redis: Redis | None = None
    shop: ShopClient | None = None
    intents: list[str] = field(default_factory=list)
