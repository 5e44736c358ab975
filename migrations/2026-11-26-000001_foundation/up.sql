-- Tenants, the product catalogue and the partner directory.
-- Enumerations are text with CHECK constraints: readable in psql, cheap to extend.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE tenants (
    id uuid PRIMARY KEY,
    display_name text NOT NULL CHECK (char_length(display_name) BETWEEN 1 AND 200),
    cloud text NOT NULL CHECK (cloud IN ('worldwide', 'china21Vianet')),
    country_code text NOT NULL CHECK (country_code ~ '^[A-Z]{2}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    -- 21Vianet operates Office 365 in mainland China only.
    CHECK (cloud <> 'china21Vianet' OR country_code = 'CN')
);

CREATE TABLE products (
    id text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    name text NOT NULL,
    service_family text NOT NULL
        CHECK (service_family IN ('microsoft365', 'dynamics365', 'powerPlatform', 'azure')),
    clouds text[] NOT NULL
        CHECK (cardinality(clouds) > 0 AND clouds <@ ARRAY['worldwide', 'china21Vianet']),
    trial_available boolean NOT NULL,
    trial_days integer NOT NULL DEFAULT 30 CHECK (trial_days BETWEEN 1 AND 90)
);

CREATE TABLE partners (
    mpn_id integer PRIMARY KEY CHECK (mpn_id >= 10000),
    kind text NOT NULL CHECK (kind IN ('global', 'location')),
    global_mpn_id integer REFERENCES partners (mpn_id),
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    clouds text[] NOT NULL
        CHECK (cardinality(clouds) > 0 AND clouds <@ ARRAY['worldwide', 'china21Vianet']),
    country_codes text[] NOT NULL CHECK (cardinality(country_codes) > 0),
    service_families text[] NOT NULL
        CHECK (service_families <@ ARRAY['microsoft365', 'dynamics365', 'powerPlatform', 'azure']),
    capabilities text[] NOT NULL
        CHECK (capabilities <@ ARRAY['advisor', 'reseller', 'delegatedAdmin']),
    status text NOT NULL CHECK (status IN ('active', 'suspended')),
    contact_email text NOT NULL CHECK (char_length(contact_email) BETWEEN 3 AND 254),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- A location (PLA) belongs to an organisation (PGA); an organisation belongs to none.
    CHECK ((kind = 'location') = (global_mpn_id IS NOT NULL)),
    CHECK (global_mpn_id IS NULL OR global_mpn_id <> mpn_id)
);

CREATE INDEX partners_global_mpn_id ON partners (global_mpn_id);
CREATE INDEX partners_country_codes ON partners USING gin (country_codes);
CREATE INDEX partners_service_families ON partners USING gin (service_families);
CREATE INDEX partners_name_trgm ON partners USING gin (name gin_trgm_ops);

INSERT INTO products (id, name, service_family, clouds, trial_available) VALUES
    ('office-365-e1', 'Office 365 E1', 'microsoft365', ARRAY['worldwide', 'china21Vianet'], true),
    ('office-365-e3', 'Office 365 E3', 'microsoft365', ARRAY['worldwide', 'china21Vianet'], true),
    ('microsoft-365-business-standard', 'Microsoft 365 Business Standard', 'microsoft365',
        ARRAY['worldwide', 'china21Vianet'], true),
    ('microsoft-365-business-premium', 'Microsoft 365 Business Premium', 'microsoft365',
        ARRAY['worldwide'], true),
    ('microsoft-365-e5', 'Microsoft 365 E5', 'microsoft365', ARRAY['worldwide'], true),
    ('exchange-online-plan-1', 'Exchange Online (Plan 1)', 'microsoft365',
        ARRAY['worldwide', 'china21Vianet'], false),
    ('dynamics-365-sales-enterprise', 'Dynamics 365 Sales Enterprise', 'dynamics365',
        ARRAY['worldwide'], true),
    ('dynamics-365-business-central-essentials', 'Dynamics 365 Business Central Essentials',
        'dynamics365', ARRAY['worldwide'], false),
    ('power-bi-pro', 'Power BI Pro', 'powerPlatform', ARRAY['worldwide', 'china21Vianet'], true),
    ('power-apps-premium', 'Power Apps Premium', 'powerPlatform', ARRAY['worldwide'], false),
    ('azure-plan', 'Azure plan', 'azure', ARRAY['worldwide'], false);
