-- pgbench anchor: the statements partnerlink sends for this endpoint, in its order
-- (captured with log_statement = all; run.sh --count checks the count still matches).
-- Ids are computed with bench_uuid() exactly as sql/load.sql and the load generator do.
-- Variables from run.sh: -D tenants=N -D subs=N.
-- GET /v1/partners?country=C&service=microsoft365&q=TERM&limit=20:
-- one search (limit + 1 rows to learn whether a next page exists). Country and
-- term are drawn from the same lists as the load generator's.
\set ci random(0, 18)
\set qi random(1, 8)
SELECT mpn_id, kind, global_mpn_id, name, clouds, country_codes, service_families, capabilities, status, contact_email, created_at, updated_at FROM partners WHERE mpn_id > 0 AND country_codes @> ARRAY[bench_country(:ci)] AND service_families @> ARRAY['microsoft365'] AND (name ILIKE ('%' || (ARRAY['fabrikam','contoso','cloud','digital','northwind','consulting','copenhagen','systems'])[:qi] || '%')) ORDER BY mpn_id LIMIT 21;
