//! Tenant ↔ partner relationships: who may end them (R9, R10) and how long delegated
//! admin lasts.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{MpnId, RelationshipKind};

/// Whether the customer may end a relationship of this kind itself (R6).
pub fn removable_by_customer(kind: RelationshipKind) -> bool {
    kind == RelationshipKind::DelegatedAdmin
}

/// Why the customer cannot end a relationship itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerRemoval {
    /// R9: only the reseller can end a reseller relationship.
    RequiresPartner,
    /// An advisor is removed from each subscription (R7), not as a whole.
    PerSubscription,
}

/// R9, R10: the customer ends delegated admin; a reseller must end its own relationship;
/// an advisor is removed per subscription.
pub fn customer_removal(kind: RelationshipKind) -> Result<(), CustomerRemoval> {
    match kind {
        RelationshipKind::DelegatedAdmin => Ok(()),
        RelationshipKind::Reseller => Err(CustomerRemoval::RequiresPartner),
        RelationshipKind::Advisor => Err(CustomerRemoval::PerSubscription),
    }
}

/// Namespace of the derived advisor relationship ids.
const ADVISOR_ID_NAMESPACE: &[u8] = b"partnerlink/advisor-relationship/v1";

/// The id of a tenant's advisor relationship with a partner. That relationship is derived
/// from the partner's current advisor associations, so it has no row; its id is a UUID
/// version 8 (RFC 9562) made from a SHA-256 of the tenant and the MPN ID, so it is the
/// same on every read and every instance.
pub fn advisor_relationship_id(tenant: Uuid, mpn: MpnId) -> Uuid {
    let mut hash = Sha256::new();
    hash.update(ADVISOR_ID_NAMESPACE);
    hash.update(tenant.as_bytes());
    hash.update(mpn.get().to_be_bytes());
    let digest = hash.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// How long a delegated admin relationship lasts: an ISO 8601 duration in whole days
/// (`P730D`), 1 to 730 days, as Microsoft's granular delegated admin allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DelegatedAdminDuration(u16);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("the duration must be written in days, like P730D")]
    Format,
    #[error("the duration must be at least 1 day")]
    TooShort,
    #[error("the duration is at most 730 days (P730D)")]
    TooLong,
}

impl DelegatedAdminDuration {
    pub const MAX_DAYS: u16 = 730;
    pub const DEFAULT: DelegatedAdminDuration = DelegatedAdminDuration(Self::MAX_DAYS);
    pub const PATTERN: &'static str = "^P[0-9]{1,3}D$";

    pub fn parse(text: &str) -> Result<Self, DurationError> {
        let digits = text
            .strip_prefix('P')
            .and_then(|rest| rest.strip_suffix('D'))
            .filter(|d| !d.is_empty() && d.len() <= 4 && d.bytes().all(|b| b.is_ascii_digit()))
            .ok_or(DurationError::Format)?;
        let days: u16 = digits.parse().map_err(|_| DurationError::Format)?;
        match days {
            0 => Err(DurationError::TooShort),
            d if d > Self::MAX_DAYS => Err(DurationError::TooLong),
            d => Ok(DelegatedAdminDuration(d)),
        }
    }

    /// Rebuilds a duration read from the database, whose check constraint holds the range.
    pub fn from_days(days: i32) -> Result<Self, DurationError> {
        let days = u16::try_from(days).map_err(|_| DurationError::TooLong)?;
        Self::parse(&format!("P{days}D"))
    }

    pub fn days(self) -> u16 {
        self.0
    }

    /// When a relationship starting at `start` ends by itself.
    pub fn expiry(self, start: DateTime<Utc>) -> DateTime<Utc> {
        start + Duration::days(i64::from(self.0))
    }
}

impl fmt::Display for DelegatedAdminDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "P{}D", self.0)
    }
}

impl Serialize for DelegatedAdminDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DelegatedAdminDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        DelegatedAdminDuration::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for DelegatedAdminDuration {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(Self::PATTERN))
            .description(Some(
                "How long delegated admin lasts: an ISO 8601 duration in whole days, \
                 P1D to P730D.",
            ))
            .examples([serde_json::json!("P730D")])
            .into()
    }
}

impl utoipa::ToSchema for DelegatedAdminDuration {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::DelegatedAdminRole;

    #[test]
    fn only_delegated_admin_is_removable_by_the_customer() {
        assert_eq!(customer_removal(RelationshipKind::DelegatedAdmin), Ok(()));
        assert_eq!(
            customer_removal(RelationshipKind::Reseller),
            Err(CustomerRemoval::RequiresPartner)
        );
        assert_eq!(
            customer_removal(RelationshipKind::Advisor),
            Err(CustomerRemoval::PerSubscription)
        );
        for kind in RelationshipKind::ALL {
            assert_eq!(
                removable_by_customer(*kind),
                customer_removal(*kind).is_ok()
            );
        }
    }

    #[test]
    fn advisor_ids_are_stable_version_8_and_distinct() {
        let tenant = Uuid::from_u128(7);
        let a = MpnId::parse("2345678").unwrap();
        let b = MpnId::parse("3456789").unwrap();
        let id = advisor_relationship_id(tenant, a);
        assert_eq!(id, advisor_relationship_id(tenant, a));
        assert_eq!(id.get_version_num(), 8);
        assert_ne!(id, advisor_relationship_id(tenant, b));
        assert_ne!(id, advisor_relationship_id(Uuid::from_u128(8), a));
    }

    #[test]
    fn durations_are_whole_days_up_to_730() {
        assert_eq!(DelegatedAdminDuration::parse("P730D").unwrap().days(), 730);
        assert_eq!(DelegatedAdminDuration::parse("P1D").unwrap().days(), 1);
        assert_eq!(
            DelegatedAdminDuration::parse("P731D"),
            Err(DurationError::TooLong)
        );
        assert_eq!(
            DelegatedAdminDuration::parse("P0D"),
            Err(DurationError::TooShort)
        );
        for bad in [
            "", "730", "P", "PD", "P2Y", "P1Y2D", "PT24H", "p30d", "P+3D", "P99999D",
        ] {
            assert!(DelegatedAdminDuration::parse(bad).is_err(), "{bad}");
        }
        let d = DelegatedAdminDuration::parse("P90D").unwrap();
        assert_eq!(d.to_string(), "P90D");
        assert_eq!(DelegatedAdminDuration::from_days(90), Ok(d));
        let start = crate::domain::now();
        assert_eq!(d.expiry(start) - start, Duration::days(90));
    }

    #[test]
    fn enums_serialise_as_stored() {
        for kind in RelationshipKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        for role in DelegatedAdminRole::ALL {
            assert_eq!(serde_json::to_value(role).unwrap(), role.as_str());
        }
    }
}
