-- There are a handful of service families and most partners serve microsoft365, so
-- this index selects almost nothing. Worse, a pooled connection's generic plan for the
-- partner search cannot see values and ranked it equal to the country index: it
-- BitmapAnd-ed the name index with ~95 % of the partners (0.7 ms) instead of with one
-- country's (0.07 ms). The family stays a filter on the rows the other indexes find.
DROP INDEX partners_service_families;
