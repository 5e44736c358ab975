CREATE INDEX partners_service_families ON partners USING gin (service_families);
