// @generated automatically by Diesel CLI.

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

diesel::allow_tables_to_appear_in_same_query!(partners, products, tenants,);
