//! Domain types and rules that need no database.

pub mod country;
pub mod cursor;
pub mod eligibility;
pub mod idempotency_key;
pub mod invitation;
pub mod mpn_id;
pub mod relationship;
pub mod subscription;

pub use country::CountryCode;
pub use cursor::Cursor;
pub use idempotency_key::IdempotencyKey;
pub use mpn_id::MpnId;

/// The current instant at the database's precision (microseconds), so a value
/// written and read back compares equal to the one the API returned.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}

/// A closed set of names stored as text and written in camelCase on the wire.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        // `rename_all` rather than a per-variant `rename = $text`: utoipa cannot read a
        // literal passed through a macro, and `text_enums_serialise_as_stored` checks both agree.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
                 serde::Serialize, serde::Deserialize, utoipa::ToSchema,
                 diesel::AsExpression, diesel::FromSqlRow)]
        #[serde(rename_all = "camelCase")]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Reads a value the database's CHECK constraint already vetted.
            pub fn from_db(text: &str) -> Result<Self, crate::error::ApiError> {
                match text {
                    $($text => Ok($name::$variant),)+
                    other => Err(crate::error::ApiError::internal(format!(
                        concat!("unexpected ", stringify!($name), " in the database: {}"), other
                    ))),
                }
            }
        }

        /// Rows decode straight into the enum: no `String` per value.
        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn from_sql(value: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                match value.as_bytes() {
                    $(t if t == $text.as_bytes() => Ok($name::$variant),)+
                    other => Err(format!(
                        concat!("unexpected ", stringify!($name), " in the database: {}"),
                        String::from_utf8_lossy(other)
                    ).into()),
                }
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum! {
    /// The Microsoft cloud a tenant lives in.
    Cloud {
        /// Microsoft 365 worldwide (`o365-worldwide`).
        Worldwide => "worldwide",
        /// Office 365 operated by 21Vianet in China (`o365-21vianet`).
        China21Vianet => "china21Vianet",
    }
}

text_enum! {
    /// The family of services a product belongs to and a partner serves.
    ServiceFamily {
        Microsoft365 => "microsoft365",
        Dynamics365 => "dynamics365",
        PowerPlatform => "powerPlatform",
        Azure => "azure",
    }
}

text_enum! {
    /// What a partner is authorised to do for customers.
    Capability {
        Advisor => "advisor",
        Reseller => "reseller",
        DelegatedAdmin => "delegatedAdmin",
    }
}

text_enum! {
    /// A partner organisation (global, PGA) or one of its business locations (PLA).
    PartnerKind {
        Global => "global",
        Location => "location",
    }
}

text_enum! {
    /// Whether a partner may currently be attached to anything.
    PartnerStatus {
        Active => "active",
        Suspended => "suspended",
    }
}

text_enum! {
    /// Where a subscription is in its life.
    SubscriptionStatus {
        Trial => "trial",
        Active => "active",
        Suspended => "suspended",
        Cancelled => "cancelled",
    }
}

text_enum! {
    /// How an advisor association came about.
    AssociationSource {
        /// Named at purchase (R1).
        Purchase => "purchase",
        /// Added or changed later by the customer (R4, R5).
        Customer => "customer",
        /// Accepted from a partner's invitation (R8).
        Invitation => "invitation",
        /// Set by an operator.
        Operator => "operator",
    }
}

text_enum! {
    /// What a partner is to a tenant (R6).
    RelationshipKind {
        /// Subscription advisor of at least one subscription (derived from associations).
        Advisor => "advisor",
        Reseller => "reseller",
        DelegatedAdmin => "delegatedAdmin",
    }
}

text_enum! {
    /// A Microsoft Entra role a delegated admin relationship grants (R10): users,
    /// passwords, licences, domains and admin permissions, as the article lists them.
    DelegatedAdminRole {
        UserAdministrator => "userAdministrator",
        PasswordAdministrator => "passwordAdministrator",
        LicenseAdministrator => "licenseAdministrator",
        DomainNameAdministrator => "domainNameAdministrator",
        PrivilegedRoleAdministrator => "privilegedRoleAdministrator",
        GlobalAdministrator => "globalAdministrator",
    }
}

text_enum! {
    /// Where a partner invitation is in its life (R8).
    InvitationStatus {
        Pending => "pending",
        Accepted => "accepted",
        Declined => "declined",
        Expired => "expired",
        Revoked => "revoked",
    }
}

text_enum! {
    /// What an invitation's offer becomes when accepted.
    OfferKind {
        /// A trial of the product.
        Trial => "trial",
        /// A paid subscription.
        Purchase => "purchase",
    }
}

/// Converts stored text values into their enum, failing on anything unexpected.
pub fn from_db_list<T>(
    values: &[String],
    parse: impl Fn(&str) -> Result<T, crate::error::ApiError>,
) -> Result<Vec<T>, crate::error::ApiError> {
    values.iter().map(|v| parse(v)).collect()
}

/// The stored form of a list of values: sorted, without duplicates.
pub fn sorted_unique<T: Ord + Copy>(values: &[T]) -> Vec<T> {
    let mut sorted = values.to_vec();
    sorted.sort();
    sorted.dedup();
    sorted
}

/// The stored form of a list of enum values as text: sorted, without duplicates.
pub fn to_db_list<T: Ord + Copy>(values: &[T], as_str: impl Fn(T) -> &'static str) -> Vec<String> {
    sorted_unique(values)
        .into_iter()
        .map(|v| as_str(v).to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agree<T: serde::Serialize + Copy>(all: &[T], as_str: impl Fn(T) -> &'static str) {
        for v in all {
            assert_eq!(serde_json::to_value(v).unwrap(), as_str(*v));
        }
    }

    #[test]
    fn text_enums_serialise_as_stored() {
        agree(Cloud::ALL, Cloud::as_str);
        agree(ServiceFamily::ALL, ServiceFamily::as_str);
        agree(Capability::ALL, Capability::as_str);
        agree(PartnerKind::ALL, PartnerKind::as_str);
        agree(PartnerStatus::ALL, PartnerStatus::as_str);
        agree(SubscriptionStatus::ALL, SubscriptionStatus::as_str);
        agree(AssociationSource::ALL, AssociationSource::as_str);
    }
}
