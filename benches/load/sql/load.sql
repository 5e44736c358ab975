-- Loads the benchmark data set into a freshly migrated partnerlink database.
--
-- psql variables: tenants, subs (a multiple of tenants, at least 6 per tenant),
-- globals and locations (partners = globals + locations; locations >= 19 * 42).
--
-- Every id is a function of a small integer, so the load generator (loadgen/src/main.rs)
-- and the pgbench scripts (pgbench/*.sql) pick the same rows without reading a list:
--   bench_uuid(k, n) = '{h:08x}-{k:04x}-4000-8000-{n:012x}', h = n * 2654435761 mod 2^32;
--                      k = 1 tenant, 2 subscription,
--                      3 advisor association, 4 relationship, 5 event
--   tenant t in 1..tenants: china21Vianet/CN when t % 20 = 0, otherwise worldwide in
--                      country W[t % 19] (W below, 0-based)
--   subscription s in 1..subs: tenant (s-1) % tenants + 1, slot j = (s-1) / tenants;
--                      j % 10 in 0..5 active with an advisor, 6 active with its advisor
--                      removed, 7 trial, 8 suspended, 9 cancelled (history ended)
--   history: 2 + s % 4 associations, the k-th from created_at + 30k days to +30(k+1)
--                      days (the last one open unless j % 10 in (6, 9))
--   location partner l in 1..locations: MPN ID 2000000 + l, primary country
--                      W[(l-1) % 19], m = (l-1) / 19; an eligible advisor for every
--                      worldwide product in its country when m % 5 <> 4 and m < 35;
--                      advisor index g in 0..23 maps to m = g + g / 4
--   global partner g in 1..globals: MPN ID 1000000 + g
\set ON_ERROR_STOP on
\timing on
SET client_min_messages = warning;
SET synchronous_commit = off;
-- The data is consistent by construction: skip the foreign-key triggers while loading.
SET session_replication_role = replica;

-- The first 32 bits are a multiplicative hash of n (a bijection for n < 2^32), so ids
-- spread over the key space as random v4 UUIDs do. (With the varying bits only at the
-- end, btree_gist, which compares UUIDs through a double of their leading bytes,
-- builds a degenerate exclusion-constraint index and every probe scans all of it.)
CREATE OR REPLACE FUNCTION bench_uuid(k integer, n bigint) RETURNS uuid
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT (lpad(to_hex((n * 2654435761) % 4294967296), 8, '0') || '-' || lpad(to_hex(k), 4, '0')
                  || '-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid $$;

-- A time-ordered (v7) UUID, as the service gives events: 48 bits of Unix milliseconds,
-- then gen_random_uuid()'s random bits with the version set to 7.
CREATE OR REPLACE FUNCTION bench_uuid_v7() RETURNS uuid
    LANGUAGE sql VOLATILE PARALLEL SAFE
    AS $$ SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
                  PLACING substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                  FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid $$;

CREATE OR REPLACE FUNCTION bench_country(i integer) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT (ARRAY['DK','SE','NO','FI','DE','NL','FR','GB','IE','US','CA','AU','JP','ES',
                        'IT','PL','BR','IN','SG'])[i % 19 + 1] $$;

CREATE OR REPLACE FUNCTION bench_city(i integer) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT (ARRAY['Copenhagen','Stockholm','Oslo','Helsinki','Berlin','Amsterdam','Paris',
                        'London','Dublin','Seattle','Toronto','Sydney','Tokyo','Madrid','Milan',
                        'Warsaw','Sao Paulo','Bangalore','Singapore'])[i % 19 + 1] $$;

-- The advisor index g (0..23) of an eligible location in country ci, as an MPN ID.
CREATE OR REPLACE FUNCTION bench_advisor(ci integer, g integer) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT 2000001 + ci + 19 * (g + g / 4) $$;

-- Where 21Vianet tenants find partners: locations with m >= 35 serve both clouds and CN.
CREATE OR REPLACE FUNCTION bench_china_advisor(n integer) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT 2000001 + (n % 19) + 19 * (35 + n % 5) $$;

-- Secondary indexes and the exclusion constraint are rebuilt after the bulk insert.
CREATE TEMP TABLE bench_saved_indexes AS
    SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
    FROM pg_index i
    WHERE i.indrelid IN ('subscriptions'::regclass, 'advisor_associations'::regclass,
                         'partner_relationships'::regclass, 'events'::regclass)
      AND NOT i.indisprimary
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid);
CREATE TEMP TABLE bench_saved_constraints AS
    SELECT conrelid::regclass::text AS tbl, conname AS name, pg_get_constraintdef(oid) AS def
    FROM pg_constraint
    WHERE conrelid = 'advisor_associations'::regclass AND contype = 'x';
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT * FROM bench_saved_indexes LOOP
        EXECUTE format('DROP INDEX %s', r.name);
    END LOOP;
    FOR r IN SELECT * FROM bench_saved_constraints LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.tbl, r.name);
    END LOOP;
END $$;

-- Partners: organisations first, then their locations.
INSERT INTO partners (mpn_id, kind, global_mpn_id, name, clouds, country_codes,
                      service_families, capabilities, status, contact_email, created_at, updated_at)
SELECT 1000000 + g, 'global', NULL,
       (ARRAY['Fabrikam','Contoso','Northwind','Tailspin','Woodgrove','Litware','Proseware',
              'Adatum','Fourth Coffee','Wingtip','Alpine Ski','Coho','Lucerne','Margie',
              'Humongous','Trey Research','Wide World','Blue Yonder','Graphic Design',
              'Relecloud'])[g % 20 + 1]
         || ' ' || (ARRAY['Consulting','Solutions','Cloud','IT','Digital','Systems','Partners',
                          'Technology','Services','Group'])[(g / 20) % 10 + 1]
         || ' ' || (ARRAY['ApS','AB','AS','GmbH','BV','Ltd','Inc','Oy','SA','KK'])[g % 10 + 1],
       ARRAY['worldwide'],
       (SELECT array_agg(DISTINCT bench_country(g - 1 + :globals * i) ORDER BY bench_country(g - 1 + :globals * i))
          FROM generate_series(0, 3) i),
       ARRAY['microsoft365','dynamics365','powerPlatform','azure'],
       ARRAY['advisor','reseller','delegatedAdmin'], 'active',
       'partners' || (1000000 + g) || '@example.com',
       timestamptz '2020-01-01 00:00:00+00' + g * interval '1 hour',
       timestamptz '2020-01-01 00:00:00+00' + g * interval '1 hour'
FROM generate_series(1, :globals) g;

INSERT INTO partners (mpn_id, kind, global_mpn_id, name, clouds, country_codes,
                      service_families, capabilities, status, contact_email, created_at, updated_at)
SELECT 2000000 + l, 'location', 1000000 + 1 + (l - 1) % :globals,
       p.name || ', ' || bench_city(ci),
       CASE WHEN m >= 35 THEN ARRAY['china21Vianet','worldwide'] ELSE ARRAY['worldwide'] END,
       (SELECT array_agg(DISTINCT c ORDER BY c) FROM unnest(
            ARRAY[bench_country(ci), bench_country(ci + 5), bench_country(ci + 11)]
            || CASE WHEN m >= 35 THEN ARRAY['CN'] ELSE ARRAY[]::text[] END) c),
       CASE WHEN m < 35 AND m % 10 = 9 THEN ARRAY['azure']
            ELSE ARRAY['microsoft365','dynamics365','powerPlatform','azure'] END,
       CASE WHEN m < 35 AND m % 10 = 9 THEN ARRAY['reseller']
            WHEN m % 3 = 0 OR m >= 35 THEN ARRAY['advisor','reseller','delegatedAdmin']
            ELSE ARRAY['advisor','reseller'] END,
       CASE WHEN m < 35 AND m % 10 = 4 THEN 'suspended' ELSE 'active' END,
       'location' || (2000000 + l) || '@example.com',
       timestamptz '2020-06-01 00:00:00+00' + l * interval '1 hour',
       timestamptz '2020-06-01 00:00:00+00' + l * interval '1 hour'
FROM generate_series(1, :locations) l,
     LATERAL (SELECT (l - 1) % 19 AS ci, (l - 1) / 19 AS m) x,
     LATERAL (SELECT name FROM partners WHERE mpn_id = 1000000 + 1 + (l - 1) % :globals) p;

INSERT INTO tenants (id, display_name, cloud, country_code, created_at)
SELECT bench_uuid(1, t), 'Tenant ' || t || ' ' || CASE WHEN t % 20 = 0 THEN 'Beijing' ELSE bench_city(t % 19) END,
       CASE WHEN t % 20 = 0 THEN 'china21Vianet' ELSE 'worldwide' END,
       CASE WHEN t % 20 = 0 THEN 'CN' ELSE bench_country(t % 19) END,
       timestamptz '2023-06-01 00:00:00+00' + t * interval '1 second'
FROM generate_series(1, :tenants) t;

-- Subscriptions: ten slots per tenant (see the header).
CREATE TEMP TABLE bench_subs AS
SELECT s, t, j, china,
       timestamptz '2024-01-01 00:00:00+00' + (s % 86400) * interval '1 second' AS created,
       2 + s % 4 AS h,
       CASE WHEN china THEN bench_china_advisor(s) ELSE NULL END AS china_mpn,
       CASE WHEN china THEN NULL ELSE t % 19 END AS ci
FROM (SELECT s, (s - 1) % :tenants + 1 AS t, ((s - 1) / :tenants) % 10 AS j
      FROM generate_series(1, :subs) s) x,
     LATERAL (SELECT t % 20 = 0 AS china) c;

INSERT INTO subscriptions (tenant_id, id, product_id, quantity, status, trial_ends_at,
                           reseller_mpn_id, version, created_at, updated_at)
SELECT bench_uuid(1, t), bench_uuid(2, s),
       CASE WHEN china THEN (ARRAY['office-365-e1','office-365-e3','microsoft-365-business-standard',
                                   'exchange-online-plan-1','power-bi-pro'])[s % 5 + 1]
            ELSE (ARRAY['office-365-e1','office-365-e3','microsoft-365-business-standard',
                        'microsoft-365-business-premium','microsoft-365-e5','exchange-online-plan-1',
                        'dynamics-365-sales-enterprise','dynamics-365-business-central-essentials',
                        'power-bi-pro','power-apps-premium','azure-plan'])[s % 11 + 1] END,
       1 + s % 300,
       CASE j WHEN 7 THEN 'trial' WHEN 8 THEN 'suspended' WHEN 9 THEN 'cancelled' ELSE 'active' END,
       CASE WHEN j = 7 THEN created + interval '30 days' END,
       -- Tenants t % 4 = 0 bought their first subscription through their reseller.
       CASE WHEN t % 4 = 0 AND j = 0 AND NOT china THEN bench_advisor(ci, t % 24) END,
       h, created, created + (h - 1) * interval '30 days'
FROM bench_subs;

INSERT INTO advisor_associations (tenant_id, subscription_id, id, mpn_id, valid_from, valid_to,
                                  source, added_by, removed_by)
SELECT bench_uuid(1, t), bench_uuid(2, s), bench_uuid(3, s * 8 + k),
       CASE WHEN china THEN bench_china_advisor(s + k) ELSE bench_advisor(ci, (s + k) % 24) END,
       created + k * interval '30 days',
       CASE WHEN k < h - 1 OR j IN (6, 9) THEN created + (k + 1) * interval '30 days' END,
       CASE WHEN k = 0 THEN 'purchase' ELSE 'customer' END,
       'admin' || t || '@tenant.example',
       CASE WHEN k < h - 1 OR j IN (6, 9) THEN 'admin' || t || '@tenant.example' END
FROM bench_subs, generate_series(0, 4) k
WHERE k < h
ORDER BY s, k;

-- Reseller relationships (t % 4 = 0), delegated admin (t % 6 = 0, an ended one t % 12 = 0).
INSERT INTO partner_relationships (tenant_id, id, mpn_id, kind, roles, since, expires_at, ended_at, ended_by)
SELECT bench_uuid(1, t), bench_uuid(4, t * 4), bench_advisor(t % 19, t % 24), 'reseller', '{}',
       timestamptz '2023-09-01 00:00:00+00' + t * interval '1 second', NULL::timestamptz, NULL::timestamptz, NULL::text
FROM generate_series(1, :tenants) t WHERE t % 4 = 0 AND t % 20 <> 0
UNION ALL
SELECT bench_uuid(1, t), bench_uuid(4, t * 4 + 1),
       CASE WHEN t % 20 = 0 THEN bench_china_advisor(t) ELSE bench_advisor(t % 19, 0) END,
       'delegatedAdmin', ARRAY['userAdministrator','licenseAdministrator'],
       timestamptz '2025-01-01 00:00:00+00' + t * interval '1 second',
       timestamptz '2027-01-01 00:00:00+00' + t * interval '1 second', NULL::timestamptz, NULL::text
FROM generate_series(1, :tenants) t WHERE t % 6 = 0
UNION ALL
SELECT bench_uuid(1, t), bench_uuid(4, t * 4 + 2),
       CASE WHEN t % 20 = 0 THEN bench_china_advisor(t + 1) ELSE bench_advisor(t % 19, 3) END,
       'delegatedAdmin', ARRAY['globalAdministrator'],
       timestamptz '2023-01-01 00:00:00+00' + t * interval '1 second',
       timestamptz '2023-01-01 00:00:00+00' + t * interval '1 second' + interval '700 days',
       timestamptz '2024-06-01 00:00:00+00' + t * interval '1 second', 'admin' || t || '@tenant.example'
FROM generate_series(1, :tenants) t WHERE t % 12 = 0;

-- The outbox as a running service leaves it: one event per purchase.
INSERT INTO events (id, type, tenant_id, occurred_at, actor, data)
SELECT bench_uuid(5, s), 'subscription.purchased', bench_uuid(1, t), created,
       'admin' || t || '@tenant.example',
       jsonb_build_object('subscriptionId', bench_uuid(2, s), 'quantity', 1 + s % 300)
FROM bench_subs ORDER BY s;
-- Numbered, as the feed numbers what it has read (the `sequence` column, once the
-- schema numbers events on reading).
SELECT EXISTS (SELECT FROM information_schema.columns
               WHERE table_name = 'events' AND column_name = 'staged') AS staged_events \gset
\if :staged_events
UPDATE events SET sequence = staged;
\endif

-- Invitations (R8), when the schema has them: tenants t % 5 = 0 got two, one asking for
-- delegated admin and one offering a trial, in every status.
SELECT to_regclass('invitations') IS NOT NULL AS has_invitations \gset
\if :has_invitations
INSERT INTO invitations (tenant_id, id, mpn_id, status, terms, requests_delegated_admin, roles,
                         delegated_admin_days, offer_kind, offer_product_id, offer_quantity,
                         token_hash, expires_at, created_at, created_by, closed_at, closed_by)
SELECT bench_uuid(1, t), bench_uuid(6, t * 2 + i),
       CASE WHEN t % 20 = 0 THEN bench_china_advisor(t + i) ELSE bench_advisor(t % 19, 5 + i) END,
       st,
       'We will manage your Microsoft 365 subscriptions and licences. Terms version ' || (t % 7 + 1) || '.',
       i = 0,
       CASE WHEN i = 0 THEN ARRAY['userAdministrator','licenseAdministrator'] ELSE '{}' END,
       CASE WHEN i = 0 THEN 365 END,
       CASE WHEN i = 1 THEN 'trial' END,
       CASE WHEN i = 1 THEN 'office-365-e3' END,
       CASE WHEN i = 1 THEN 25 END,
       md5('token' || t || '/' || i) || md5('salt' || t || '/' || i),
       created + interval '30 days', created, 'partner' || t || '@partner.example',
       CASE WHEN st <> 'pending' THEN created + interval '1 day' END,
       CASE WHEN st <> 'pending' THEN 'admin' || t || '@tenant.example' END
FROM generate_series(1, :tenants) t, generate_series(0, 1) i,
     LATERAL (SELECT (ARRAY['pending','accepted','declined','expired'])[(t / 5 + i) % 4 + 1] AS st) x,
     LATERAL (SELECT CASE WHEN st = 'pending' THEN date_trunc('day', now()) - interval '1 day'
                          ELSE timestamptz '2025-03-01 00:00:00+00' + t * interval '1 second' END AS created) y
WHERE t % 5 = 0;
\else
\echo 'no invitations table: invitations not loaded'
\endif

SET session_replication_role = DEFAULT;
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT * FROM bench_saved_constraints LOOP
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', r.tbl, r.name, r.def);
    END LOOP;
    FOR r IN SELECT * FROM bench_saved_indexes LOOP
        EXECUTE r.def;
    END LOOP;
END $$;
