-- Subscriptions, their advisor history, reseller/delegated-admin relationships,
-- the event outbox and idempotency keys. Tenant-owned tables key on tenant_id first
-- (SPEC section 9).

CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE subscriptions (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    product_id text NOT NULL REFERENCES products (id),
    quantity integer NOT NULL CHECK (quantity BETWEEN 1 AND 300000),
    status text NOT NULL CHECK (status IN ('trial', 'active', 'suspended', 'cancelled')),
    trial_ends_at timestamptz,
    reseller_mpn_id integer REFERENCES partners (mpn_id),
    version bigint NOT NULL DEFAULT 1 CHECK (version > 0),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CHECK ((status = 'trial') = (trial_ends_at IS NOT NULL))
);

CREATE INDEX subscriptions_listing ON subscriptions (tenant_id, created_at, id);
CREATE INDEX subscriptions_reseller ON subscriptions (tenant_id, reseller_mpn_id) WHERE reseller_mpn_id IS NOT NULL;

CREATE TABLE advisor_associations (
    tenant_id uuid NOT NULL,
    subscription_id uuid NOT NULL,
    id uuid NOT NULL,
    mpn_id integer NOT NULL REFERENCES partners (mpn_id),
    valid_from timestamptz NOT NULL,
    valid_to timestamptz,
    source text NOT NULL CHECK (source IN ('purchase', 'customer', 'invitation', 'operator')),
    added_by text NOT NULL,
    removed_by text,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, subscription_id) REFERENCES subscriptions (tenant_id, id),
    CHECK (valid_to IS NULL OR valid_to > valid_from),
    CHECK ((valid_to IS NULL) = (removed_by IS NULL)),
    -- No two associations of one subscription overlap in time, whatever the code does.
    CONSTRAINT advisor_associations_no_overlap EXCLUDE USING gist (
        tenant_id WITH =,
        subscription_id WITH =,
        tstzrange(valid_from, valid_to, '[)') WITH &&
    )
);

-- At most one current advisor per subscription.
CREATE UNIQUE INDEX advisor_associations_one_current
    ON advisor_associations (tenant_id, subscription_id) WHERE valid_to IS NULL;
CREATE INDEX advisor_associations_history
    ON advisor_associations (tenant_id, subscription_id, valid_from DESC);
CREATE INDEX advisor_associations_current_partner
    ON advisor_associations (tenant_id, mpn_id) WHERE valid_to IS NULL;

CREATE TABLE partner_relationships (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    mpn_id integer NOT NULL REFERENCES partners (mpn_id),
    kind text NOT NULL CHECK (kind IN ('reseller', 'delegatedAdmin')),
    roles text[] NOT NULL DEFAULT '{}',
    since timestamptz NOT NULL,
    expires_at timestamptz,
    ended_at timestamptz,
    ended_by text,
    PRIMARY KEY (tenant_id, id),
    CHECK ((ended_at IS NULL) = (ended_by IS NULL))
);

CREATE UNIQUE INDEX partner_relationships_one_open
    ON partner_relationships (tenant_id, mpn_id, kind) WHERE ended_at IS NULL;
CREATE INDEX partner_relationships_partner ON partner_relationships (mpn_id, tenant_id);

-- Transactional outbox. Writers take an advisory lock before inserting, so sequence
-- order is commit order and a reader paging by `after` never skips an event.
CREATE TABLE events (
    sequence bigserial PRIMARY KEY,
    id uuid NOT NULL UNIQUE,
    type text NOT NULL,
    tenant_id uuid,
    occurred_at timestamptz NOT NULL,
    actor text NOT NULL,
    data jsonb NOT NULL
);

CREATE TABLE idempotency_keys (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    caller text NOT NULL,
    key text NOT NULL,
    request_hash text NOT NULL,
    status_code integer,
    response_body jsonb,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, caller, key)
);

CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
