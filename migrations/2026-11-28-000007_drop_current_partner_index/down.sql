CREATE INDEX advisor_associations_current_partner
    ON advisor_associations (tenant_id, mpn_id) WHERE valid_to IS NULL;
