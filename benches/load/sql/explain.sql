-- The plan of every statement the benchmarked endpoints send, as prepared statements
-- (diesel prepares and caches them) under both plan-cache modes: a generic plan is what
-- a long-lived pooled connection may settle on. run.sh reports any "Seq Scan".
\set ON_ERROR_STOP on
\pset pager off
SELECT bench_uuid(1, 7) AS t, bench_uuid(2, 7) AS s \gset

PREPARE tenant_by_id(uuid, bigint) AS
SELECT "tenants"."id", "tenants"."display_name", "tenants"."cloud", "tenants"."country_code", "tenants"."created_at" FROM "tenants" WHERE ("tenants"."id" = $1) LIMIT $2;
PREPARE subscription_by_id(uuid, uuid, bigint) AS
SELECT "subscriptions"."tenant_id", "subscriptions"."id", "subscriptions"."product_id", "subscriptions"."quantity", "subscriptions"."status", "subscriptions"."trial_ends_at", "subscriptions"."reseller_mpn_id", "subscriptions"."version", "subscriptions"."created_at", "subscriptions"."updated_at" FROM "subscriptions" WHERE (("subscriptions"."tenant_id" = $1) AND ("subscriptions"."id" = $2)) LIMIT $3 FOR UPDATE;
PREPARE current_advisor(uuid, uuid, bigint) AS
SELECT "advisor_associations"."tenant_id", "advisor_associations"."subscription_id", "advisor_associations"."id", "advisor_associations"."mpn_id", "advisor_associations"."valid_from", "advisor_associations"."valid_to", "advisor_associations"."source", "advisor_associations"."added_by", "advisor_associations"."removed_by", "partners"."name" FROM ("advisor_associations" INNER JOIN "partners" ON ("advisor_associations"."mpn_id" = "partners"."mpn_id")) WHERE ((("advisor_associations"."tenant_id" = $1) AND ("advisor_associations"."subscription_id" = $2)) AND ("advisor_associations"."valid_to" IS NULL)) LIMIT $3;
PREPARE subscription_read(uuid, integer, text, uuid, uuid, bigint) AS
SELECT "tenants"."id", "tenants"."display_name", "tenants"."cloud", "tenants"."country_code", "tenants"."created_at", EXISTS (SELECT "partner_relationships"."tenant_id", "partner_relationships"."id", "partner_relationships"."mpn_id", "partner_relationships"."kind", "partner_relationships"."roles", "partner_relationships"."since", "partner_relationships"."expires_at", "partner_relationships"."ended_at", "partner_relationships"."ended_by", "partner_relationships"."invitation_id" FROM "partner_relationships" WHERE (((("partner_relationships"."tenant_id" = $1) AND ("partner_relationships"."mpn_id" = $2)) AND ("partner_relationships"."kind" = $3)) AND ("partner_relationships"."ended_at" IS NULL))), "subscriptions"."tenant_id", "subscriptions"."id", "subscriptions"."product_id", "subscriptions"."quantity", "subscriptions"."status", "subscriptions"."trial_ends_at", "subscriptions"."reseller_mpn_id", "subscriptions"."version", "subscriptions"."created_at", "subscriptions"."updated_at", "advisor_associations"."tenant_id", "advisor_associations"."subscription_id", "advisor_associations"."id", "advisor_associations"."mpn_id", "advisor_associations"."valid_from", "advisor_associations"."valid_to", "advisor_associations"."source", "advisor_associations"."added_by", "advisor_associations"."removed_by", "partners"."name" FROM ((("tenants" LEFT OUTER JOIN "subscriptions" ON (("subscriptions"."tenant_id" = "tenants"."id") AND ("subscriptions"."id" = $4))) LEFT OUTER JOIN "advisor_associations" ON ((("advisor_associations"."tenant_id" = "subscriptions"."tenant_id") AND ("advisor_associations"."subscription_id" = "subscriptions"."id")) AND ("advisor_associations"."valid_to" IS NULL))) LEFT OUTER JOIN "partners" ON ("partners"."mpn_id" = "advisor_associations"."mpn_id")) WHERE ("tenants"."id" = $5) LIMIT $6;
PREPARE advisor_at(uuid, uuid, timestamptz, timestamptz, bigint) AS
SELECT "advisor_associations"."tenant_id", "advisor_associations"."subscription_id", "advisor_associations"."id", "advisor_associations"."mpn_id", "advisor_associations"."valid_from", "advisor_associations"."valid_to", "advisor_associations"."source", "advisor_associations"."added_by", "advisor_associations"."removed_by", "partners"."name" FROM ("advisor_associations" INNER JOIN "partners" ON ("advisor_associations"."mpn_id" = "partners"."mpn_id")) WHERE (((("advisor_associations"."tenant_id" = $1) AND ("advisor_associations"."subscription_id" = $2)) AND ("advisor_associations"."valid_from" <= $3)) AND (("advisor_associations"."valid_to" IS NULL) OR ("advisor_associations"."valid_to" > $4))) ORDER BY "advisor_associations"."valid_from" DESC LIMIT $5;
PREPARE partner_search(text[], text[], text, bigint) AS
SELECT "partners"."mpn_id", "partners"."kind", "partners"."global_mpn_id", "partners"."name", "partners"."clouds", "partners"."country_codes", "partners"."service_families", "partners"."capabilities", "partners"."status", "partners"."contact_email", "partners"."created_at", "partners"."updated_at" FROM "partners" WHERE ((("partners"."country_codes" @> $1) AND ("partners"."service_families" @> $2)) AND ("partners"."name" ILIKE $3)) ORDER BY "partners"."mpn_id" LIMIT $4;
PREPARE product_by_id(text, bigint) AS
SELECT "products"."id", "products"."name", "products"."service_family", "products"."clouds", "products"."trial_available", "products"."trial_days" FROM "products" WHERE ("products"."id" = $1) LIMIT $2;
PREPARE partner_by_mpn(integer, bigint) AS
SELECT "partners"."mpn_id", "partners"."kind", "partners"."global_mpn_id", "partners"."name", "partners"."clouds", "partners"."country_codes", "partners"."service_families", "partners"."capabilities", "partners"."status", "partners"."contact_email", "partners"."created_at", "partners"."updated_at" FROM "partners" WHERE ("partners"."mpn_id" = $1) LIMIT $2;
PREPARE end_association(timestamptz, text, uuid, uuid) AS
UPDATE "advisor_associations" SET "valid_to" = $1, "removed_by" = $2 WHERE (("advisor_associations"."tenant_id" = $3) AND ("advisor_associations"."id" = $4));
PREPARE save_subscription(integer, text, timestamptz, bigint, timestamptz, uuid, uuid) AS
UPDATE "subscriptions" SET "quantity" = $1, "status" = $2, "trial_ends_at" = $3, "version" = ("subscriptions"."version" + $4), "updated_at" = $5 WHERE (("subscriptions"."tenant_id" = $6) AND ("subscriptions"."id" = $7)) RETURNING "subscriptions"."id";

PREPARE sweep_expired(text, text, timestamptz, uuid) AS
UPDATE "partner_relationships" SET "ended_at" = "partner_relationships"."expires_at", "ended_by" = $1 WHERE (((("partner_relationships"."kind" = $2) AND ("partner_relationships"."ended_at" IS NULL)) AND ("partner_relationships"."expires_at" <= $3)) AND ("partner_relationships"."tenant_id" = $4)) RETURNING "partner_relationships"."id";
PREPARE current_advice(uuid) AS
SELECT "advisor_associations"."mpn_id", "partners"."name", "advisor_associations"."subscription_id", "advisor_associations"."valid_from" FROM ("advisor_associations" INNER JOIN "partners" ON ("advisor_associations"."mpn_id" = "partners"."mpn_id")) WHERE (("advisor_associations"."tenant_id" = $1) AND ("advisor_associations"."valid_to" IS NULL)) ORDER BY "advisor_associations"."mpn_id", "advisor_associations"."valid_from", "advisor_associations"."subscription_id";
PREPARE open_relationships(uuid, timestamptz) AS
SELECT "partner_relationships"."id", "partners"."name" FROM ("partner_relationships" INNER JOIN "partners" ON ("partner_relationships"."mpn_id" = "partners"."mpn_id")) WHERE ((("partner_relationships"."tenant_id" = $1) AND ("partner_relationships"."ended_at" IS NULL)) AND (("partner_relationships"."expires_at" IS NULL) OR ("partner_relationships"."expires_at" > $2))) ORDER BY "partner_relationships"."mpn_id", "partner_relationships"."kind";

\o :explain_out
\set mode force_custom_plan
\ir explain_run.sql
\set mode force_generic_plan
\ir explain_run.sql
\o
