-- pgbench anchor: the statements partnerlink sends for this endpoint, in its order
-- (captured with log_statement = all; run.sh --count checks the count still matches).
-- Ids are computed with bench_uuid() exactly as sql/load.sql and the load generator do.
-- Variables from run.sh: -D tenants=N -D subs=N.
-- GET /v1/tenants/{t}/partner-relationships: in one transaction
-- the tenant, the sweep that ends expired delegated admin relationships (none have
-- expired in the data set), the current advisor associations with partner names, and
-- the open relationships with partner names.
\set t random(1, :tenants)
BEGIN;
SELECT "tenants"."id", "tenants"."display_name", "tenants"."cloud", "tenants"."country_code", "tenants"."created_at" FROM "tenants" WHERE ("tenants"."id" = bench_uuid(1, :t)) LIMIT 1;
UPDATE "partner_relationships" SET "ended_at" = "partner_relationships"."expires_at", "ended_by" = 'system' WHERE (((("partner_relationships"."kind" = 'delegatedAdmin') AND ("partner_relationships"."ended_at" IS NULL)) AND ("partner_relationships"."expires_at" <= now())) AND ("partner_relationships"."tenant_id" = bench_uuid(1, :t))) RETURNING "partner_relationships"."tenant_id", "partner_relationships"."id", "partner_relationships"."mpn_id", "partner_relationships"."kind", "partner_relationships"."roles", "partner_relationships"."since", "partner_relationships"."expires_at", "partner_relationships"."ended_at", "partner_relationships"."ended_by", "partner_relationships"."invitation_id";
SELECT "advisor_associations"."mpn_id", "partners"."name", "advisor_associations"."subscription_id", "advisor_associations"."valid_from" FROM ("advisor_associations" INNER JOIN "partners" ON ("advisor_associations"."mpn_id" = "partners"."mpn_id")) WHERE (("advisor_associations"."tenant_id" = bench_uuid(1, :t)) AND ("advisor_associations"."valid_to" IS NULL)) ORDER BY "advisor_associations"."mpn_id", "advisor_associations"."valid_from", "advisor_associations"."subscription_id";
SELECT "partner_relationships"."tenant_id", "partner_relationships"."id", "partner_relationships"."mpn_id", "partner_relationships"."kind", "partner_relationships"."roles", "partner_relationships"."since", "partner_relationships"."expires_at", "partner_relationships"."ended_at", "partner_relationships"."ended_by", "partner_relationships"."invitation_id", "partners"."name" FROM ("partner_relationships" INNER JOIN "partners" ON ("partner_relationships"."mpn_id" = "partners"."mpn_id")) WHERE ((("partner_relationships"."tenant_id" = bench_uuid(1, :t)) AND ("partner_relationships"."ended_at" IS NULL)) AND (("partner_relationships"."expires_at" IS NULL) OR ("partner_relationships"."expires_at" > now()))) ORDER BY "partner_relationships"."mpn_id", "partner_relationships"."kind";
COMMIT;
