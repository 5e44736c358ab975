// @generated automatically by Diesel CLI.

diesel::table! {
    advisor_associations (tenant_id, id) {
        tenant_id -> Uuid,
        subscription_id -> Uuid,
        id -> Uuid,
        mpn_id -> Int4,
        valid_from -> Timestamptz,
        valid_to -> Nullable<Timestamptz>,
        source -> Text,
        added_by -> Text,
        removed_by -> Nullable<Text>,
    }
}

diesel::table! {
    events (staged) {
        staged -> Int8,
        id -> Uuid,
        #[sql_name = "type"]
        type_ -> Text,
        tenant_id -> Nullable<Uuid>,
        occurred_at -> Timestamptz,
        actor -> Text,
        data -> Jsonb,
        sequence -> Nullable<Int8>,
    }
}

diesel::table! {
    idempotency_keys (tenant_id, caller, key) {
        tenant_id -> Uuid,
        caller -> Text,
        key -> Text,
        request_hash -> Text,
        status_code -> Nullable<Int4>,
        response_body -> Nullable<Jsonb>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    invitations (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        mpn_id -> Int4,
        status -> Text,
        terms -> Text,
        requests_delegated_admin -> Bool,
        roles -> Array<Text>,
        delegated_admin_days -> Nullable<Int4>,
        offer_kind -> Nullable<Text>,
        offer_product_id -> Nullable<Text>,
        offer_quantity -> Nullable<Int4>,
        subscription_ids -> Array<Uuid>,
        token_hash -> Text,
        expires_at -> Timestamptz,
        created_at -> Timestamptz,
        created_by -> Text,
        closed_at -> Nullable<Timestamptz>,
        closed_by -> Nullable<Text>,
        relationship_id -> Nullable<Uuid>,
        offer_subscription_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    partner_relationships (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        mpn_id -> Int4,
        kind -> Text,
        roles -> Array<Text>,
        since -> Timestamptz,
        expires_at -> Nullable<Timestamptz>,
        ended_at -> Nullable<Timestamptz>,
        ended_by -> Nullable<Text>,
        invitation_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    partners (mpn_id) {
        mpn_id -> Int4,
        kind -> Text,
        global_mpn_id -> Nullable<Int4>,
        name -> Text,
        clouds -> Array<Text>,
        country_codes -> Array<Text>,
        service_families -> Array<Text>,
        capabilities -> Array<Text>,
        status -> Text,
        contact_email -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    products (id) {
        id -> Text,
        name -> Text,
        service_family -> Text,
        clouds -> Array<Text>,
        trial_available -> Bool,
        trial_days -> Int4,
    }
}

diesel::table! {
    tenants (id) {
        id -> Uuid,
        display_name -> Text,
        cloud -> Text,
        country_code -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    subscriptions (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        product_id -> Text,
        quantity -> Int4,
        status -> Text,
        trial_ends_at -> Nullable<Timestamptz>,
        reseller_mpn_id -> Nullable<Int4>,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(advisor_associations -> partners (mpn_id));
diesel::joinable!(invitations -> partners (mpn_id));
diesel::joinable!(invitations -> products (offer_product_id));
diesel::joinable!(invitations -> tenants (tenant_id));
diesel::joinable!(partner_relationships -> partners (mpn_id));
diesel::joinable!(partner_relationships -> tenants (tenant_id));
diesel::joinable!(subscriptions -> products (product_id));
diesel::joinable!(subscriptions -> tenants (tenant_id));

diesel::allow_tables_to_appear_in_same_query!(
    advisor_associations,
    events,
    idempotency_keys,
    invitations,
    partner_relationships,
    partners,
    products,
    subscriptions,
    tenants,
);
