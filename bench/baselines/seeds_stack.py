"""The seeds' stack: the two reference endpoints the way the seed documents
describe them. FastAPI + async SQLAlchemy 1.4 (ORM) on asyncpg, python-jose
JWT verification, schema-per-tenant through schema_translate_map, a
permission check against the caller's role, with the same in-process caching
of tenants and memberships that Plinth has (TENANT_CACHE_TTL_MS). One uvicorn
worker (uvloop + httptools), one connection pool.

Tokens are HS256: python-jose has no EdDSA (Plinth's algorithm), and HMAC is
the cheaper check, which favours this stack.

Env: DATABASE_URL, JWT_SECRET, JWT_ISSUER, DB_POOL_MAX, TENANT_CACHE_TTL_MS.
Run: python3 -m uvicorn seeds_stack:app --port N --workers 1 --no-access-log
"""
import datetime
import os
import time
import uuid
from base64 import urlsafe_b64encode
from typing import List, Optional

from fastapi import Depends, FastAPI, Header, HTTPException, Query
from jose import JWTError, jwt
from pydantic import BaseModel, constr
from sqlalchemy import Column, DateTime, Text, select, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import declarative_base

URL = os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+asyncpg://", 1).replace("postgres://", "postgresql+asyncpg://", 1)
SECRET = os.environ["JWT_SECRET"]
ISSUER = os.environ.get("JWT_ISSUER", "plinth")
TTL = int(os.environ.get("TENANT_CACHE_TTL_MS", "60000")) / 1000
POOL = int(os.environ.get("DB_POOL_MAX", "10"))

engine = create_async_engine(URL, pool_size=POOL, max_overflow=0)
Base = declarative_base()

PERMISSIONS = {
    "owner": {"crm.contacts.read", "crm.contacts.write", "crm.contacts.delete"},
    "admin": {"crm.contacts.read", "crm.contacts.write", "crm.contacts.delete"},
    "member": {"crm.contacts.read", "crm.contacts.write"},
    "viewer": {"crm.contacts.read"},
}


class Contact(Base):
    __tablename__ = "contacts"  # schema comes from schema_translate_map per tenant
    id = Column(UUID(as_uuid=True), primary_key=True)
    first_name = Column(Text, nullable=False)
    last_name = Column(Text)
    email = Column(Text)
    phone = Column(Text)
    job_title = Column(Text)
    owner_id = Column(UUID(as_uuid=True))
    created_by = Column(UUID(as_uuid=True), nullable=False)
    updated_by = Column(UUID(as_uuid=True), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False)
    updated_at = Column(DateTime(timezone=True), nullable=False)
    deleted_at = Column(DateTime(timezone=True))
    emails = Column(ARRAY(Text), nullable=False)
    phones = Column(ARRAY(Text), nullable=False)
    company_id = Column(UUID(as_uuid=True))


def to_camel(s: str) -> str:
    head, *rest = s.split("_")
    return head + "".join(p.title() for p in rest)


class ContactOut(BaseModel):
    id: uuid.UUID
    first_name: str
    last_name: Optional[str]
    email: Optional[str]
    phone: Optional[str]
    job_title: Optional[str]
    owner_id: Optional[uuid.UUID]
    created_by: uuid.UUID
    updated_by: uuid.UUID
    created_at: datetime.datetime
    updated_at: datetime.datetime
    deleted_at: Optional[datetime.datetime]
    emails: List[str]
    phones: List[str]
    company_id: Optional[uuid.UUID]

    class Config:
        orm_mode = True
        alias_generator = to_camel
        allow_population_by_field_name = True


class ContactPage(BaseModel):
    data: List[ContactOut]
    nextCursor: Optional[str]


class ContactIn(BaseModel):
    firstName: constr(min_length=1, max_length=100, regex=r"\S")
    lastName: Optional[constr(min_length=1, max_length=100)] = None
    email: Optional[constr(max_length=320, regex=r"^[^@\s]+@[^@\s]+$")] = None
    phone: Optional[constr(max_length=40)] = None
    jobTitle: Optional[constr(max_length=200)] = None

    class Config:
        extra = "forbid"


class Ctx:
    def __init__(self, tenant_id, schema, account_id, permissions):
        self.tenant_id = tenant_id
        self.schema = schema
        self.account_id = account_id
        self.permissions = permissions


_tenants = {}
_roles = {}
_engines = {}


def _cached(cache, key):
    hit = cache.get(key)
    if hit and hit[0] > time.monotonic():
        return hit
    return None


async def tenant_by_slug(slug: str):
    hit = _cached(_tenants, slug)
    if hit:
        return hit[1]
    async with engine.connect() as conn:
        row = (await conn.execute(text("select id, schema_name, status from public.tenants where slug = :s"), {"s": slug})).first()
    _tenants[slug] = (time.monotonic() + TTL, row)
    return row


async def role_of(tenant_id, account_id):
    key = (tenant_id, account_id)
    hit = _cached(_roles, key)
    if hit:
        return hit[1]
    async with engine.connect() as conn:
        role = (await conn.execute(
            text("select m.role from public.memberships m join public.accounts a on a.id = m.account_id "
                 "where m.tenant_id = :t and m.account_id = :a and a.status = 'active'"),
            {"t": tenant_id, "a": account_id},
        )).scalar()
    _roles[key] = (time.monotonic() + TTL, role)
    return role


def tenant_engine(schema: str):
    # Shares the pool; only the schema translation differs per tenant.
    e = _engines.get(schema)
    if e is None:
        e = _engines[schema] = engine.execution_options(schema_translate_map={None: schema})
    return e


def require(permission: str):
    async def dependency(authorization: str = Header(None), x_tenant: str = Header(None)) -> Ctx:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise HTTPException(401, "Send an access token")
        try:
            claims = jwt.decode(authorization[7:].strip(), SECRET, algorithms=["HS256"], audience="plinth-api", issuer=ISSUER)
        except JWTError:
            raise HTTPException(401, "The access token is not valid")
        if not x_tenant:
            raise HTTPException(400, "X-Tenant is required")
        tenant = await tenant_by_slug(x_tenant.strip().lower())
        if tenant is None or tenant.status != "active":
            raise HTTPException(404, "No such tenant")
        if str(tenant.id) != claims.get("tid"):
            raise HTTPException(403, "The token was issued for another tenant")
        role = await role_of(tenant.id, claims["sub"])
        if role is None or permission not in PERMISSIONS.get(role, ()):
            raise HTTPException(403, "Permission denied")
        return Ctx(tenant.id, tenant.schema_name, claims["sub"], PERMISSIONS[role])
    return dependency


async def tenant_session(ctx: Ctx):
    async with AsyncSession(tenant_engine(ctx.schema), expire_on_commit=False) as session:
        yield session


async def session_for(ctx: Ctx = Depends(require("crm.contacts.read"))):
    async for s in tenant_session(ctx):
        yield ctx, s


async def write_session_for(ctx: Ctx = Depends(require("crm.contacts.write"))):
    async for s in tenant_session(ctx):
        yield ctx, s


app = FastAPI()


@app.get("/health")
async def health():
    return {"status": "ok"}


@app.get("/v1/contacts", response_model=ContactPage)
async def list_contacts(limit: int = Query(50, ge=1, le=200), dep=Depends(session_for)):
    _, session = dep
    rows = (await session.execute(
        select(Contact).where(Contact.deleted_at.is_(None)).order_by(Contact.created_at.desc(), Contact.id.desc()).limit(limit + 1)
    )).scalars().all()
    data = rows[:limit]
    cursor = None
    if len(rows) > limit and data:
        cursor = urlsafe_b64encode(f"{data[-1].created_at.isoformat()}|{data[-1].id}".encode()).decode()
    return ContactPage(data=[ContactOut.from_orm(r) for r in data], nextCursor=cursor)


@app.post("/v1/contacts", response_model=ContactOut, status_code=201)
async def create_contact(body: ContactIn, dep=Depends(write_session_for)):
    ctx, session = dep
    now = datetime.datetime.now(datetime.timezone.utc)
    contact = Contact(
        id=uuid.uuid4(), first_name=body.firstName.strip(), last_name=body.lastName, email=body.email, phone=body.phone,
        job_title=body.jobTitle, owner_id=ctx.account_id, created_by=ctx.account_id, updated_by=ctx.account_id,
        created_at=now, updated_at=now, deleted_at=None,
        emails=[body.email] if body.email else [], phones=[body.phone] if body.phone else [], company_id=None,
    )
    session.add(contact)
    await session.commit()
    return ContactOut.from_orm(contact)
