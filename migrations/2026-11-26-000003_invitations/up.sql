-- Partner invitations (R8) and the delegated admin lifetime (R10).

-- A delegated admin relationship carries Entra role names and, like GDAP, an end
-- (at most 730 days after it starts); the other kinds carry neither.
ALTER TABLE partner_relationships
    ADD CONSTRAINT partner_relationships_roles CHECK (
        roles <@ ARRAY['userAdministrator', 'passwordAdministrator', 'licenseAdministrator',
                       'domainNameAdministrator', 'privilegedRoleAdministrator',
                       'globalAdministrator']
        AND (kind = 'delegatedAdmin' OR cardinality(roles) = 0)),
    ADD CONSTRAINT partner_relationships_lifetime CHECK (
        (kind = 'delegatedAdmin') = (expires_at IS NOT NULL)
        AND (expires_at IS NULL
             OR (expires_at > since AND expires_at <= since + interval '730 days'))),
    ADD CONSTRAINT partner_relationships_ended_after_start CHECK (ended_at IS NULL OR ended_at >= since),
    ADD COLUMN invitation_id uuid;

-- A partner's customers: its open relationships and current advisor associations.
CREATE INDEX advisor_associations_partner_current
    ON advisor_associations (mpn_id, tenant_id) WHERE valid_to IS NULL;

CREATE TABLE invitations (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    mpn_id integer NOT NULL REFERENCES partners (mpn_id),
    status text NOT NULL
        CHECK (status IN ('pending', 'accepted', 'declined', 'expired', 'revoked')),
    terms text NOT NULL CHECK (char_length(terms) BETWEEN 1 AND 10000),
    requests_delegated_admin boolean NOT NULL,
    roles text[] NOT NULL DEFAULT '{}'
        CHECK (roles <@ ARRAY['userAdministrator', 'passwordAdministrator', 'licenseAdministrator',
                              'domainNameAdministrator', 'privilegedRoleAdministrator',
                              'globalAdministrator']),
    delegated_admin_days integer CHECK (delegated_admin_days BETWEEN 1 AND 730),
    offer_kind text CHECK (offer_kind IN ('trial', 'purchase')),
    offer_product_id text REFERENCES products (id),
    offer_quantity integer CHECK (offer_quantity BETWEEN 1 AND 300000),
    -- Existing subscriptions of the tenant the partner asks to advise.
    subscription_ids uuid[] NOT NULL DEFAULT '{}'
        CHECK (cardinality(subscription_ids) <= 50 AND array_position(subscription_ids, NULL) IS NULL),
    -- SHA-256 of the accept token, hex; the token itself is never stored here.
    token_hash text NOT NULL CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    created_by text NOT NULL,
    -- When and by whom the invitation left `pending` (answered, revoked, or seen expired).
    closed_at timestamptz,
    closed_by text,
    relationship_id uuid,
    offer_subscription_id uuid,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, offer_subscription_id) REFERENCES subscriptions (tenant_id, id),
    CHECK (expires_at > created_at),
    CHECK ((status = 'pending') = (closed_at IS NULL)),
    CHECK ((closed_at IS NULL) = (closed_by IS NULL)),
    CHECK (requests_delegated_admin = (cardinality(roles) > 0)),
    CHECK (requests_delegated_admin = (delegated_admin_days IS NOT NULL)),
    CHECK ((offer_kind IS NULL) = (offer_product_id IS NULL)
           AND (offer_kind IS NULL) = (offer_quantity IS NULL)),
    -- Accepting must leave the partner with something: delegated admin, or advice.
    CHECK (requests_delegated_admin OR offer_kind IS NOT NULL OR cardinality(subscription_ids) > 0),
    CHECK (status = 'accepted' OR (relationship_id IS NULL AND offer_subscription_id IS NULL))
);

CREATE INDEX invitations_partner ON invitations (mpn_id, created_at, id);
-- The accept link names the invitation by id only.
CREATE INDEX invitations_id ON invitations (id);
-- Finding pending invitations past their expiry is cheap.
CREATE INDEX invitations_pending ON invitations (expires_at) WHERE status = 'pending';
