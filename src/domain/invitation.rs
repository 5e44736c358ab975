//! Partner invitations (R8): the accept token and when an invitation may be answered.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::InvitationStatus;

/// Invitations expire after this many days unless the partner asks for fewer (SPEC §7).
pub const MAX_EXPIRY_DAYS: u16 = 30;

/// The secret that proves a caller followed the invitation's link. Only its hash is
/// stored; the token itself is handed out once.
pub struct AcceptToken {
    pub token: String,
    pub hash: String,
}

impl AcceptToken {
    /// 32 random bytes from the operating system, base64url without padding.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let hash = token_hash(&token);
        AcceptToken { token, hash }
    }
}

/// The stored form of a token: SHA-256, lower-case hex.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether `presented` is the token whose hash is stored, compared in constant time.
pub fn token_matches(presented: &str, stored_hash: &str) -> bool {
    let presented = token_hash(presented);
    let (a, b) = (presented.as_bytes(), stored_hash.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The status as callers see it: a pending invitation past its expiry is expired, whether
/// or not that was written down yet (no background job is needed for correctness).
pub fn effective_status(
    stored: InvitationStatus,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> InvitationStatus {
    if stored == InvitationStatus::Pending && expires_at <= now {
        InvitationStatus::Expired
    } else {
        stored
    }
}

/// Why an invitation cannot be answered (accepted, declined or revoked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotAnswerable {
    /// Past its expiry; `overdue` when its stored status still says pending.
    Expired { overdue: bool },
    /// Already accepted, declined or revoked.
    Closed(InvitationStatus),
}

pub fn check_answerable(
    stored: InvitationStatus,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), NotAnswerable> {
    match (stored, effective_status(stored, expires_at, now)) {
        (InvitationStatus::Pending, InvitationStatus::Pending) => Ok(()),
        (InvitationStatus::Pending, _) => Err(NotAnswerable::Expired { overdue: true }),
        (InvitationStatus::Expired, _) => Err(NotAnswerable::Expired { overdue: false }),
        (closed, _) => Err(NotAnswerable::Closed(closed)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn tokens_are_43_url_safe_characters_and_only_their_own_hash_matches() {
        let t = AcceptToken::generate();
        assert_eq!(t.token.len(), 43);
        assert!(t
            .token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(t.hash.len(), 64);
        assert!(token_matches(&t.token, &t.hash));
        assert!(!token_matches(&AcceptToken::generate().token, &t.hash));
        assert!(!token_matches("", &t.hash));
        assert!(!token_matches(&t.hash, &t.hash));
        assert_ne!(t.token, AcceptToken::generate().token);
    }

    #[test]
    fn a_pending_invitation_past_its_expiry_is_expired() {
        let now = crate::domain::now();
        let later = now + Duration::days(1);
        use InvitationStatus::*;
        assert_eq!(effective_status(Pending, later, now), Pending);
        assert_eq!(effective_status(Pending, now, now), Expired);
        assert_eq!(effective_status(Accepted, now, later), Accepted);
        assert_eq!(check_answerable(Pending, later, now), Ok(()));
        assert_eq!(
            check_answerable(Pending, now, later),
            Err(NotAnswerable::Expired { overdue: true })
        );
        assert_eq!(
            check_answerable(Expired, later, now),
            Err(NotAnswerable::Expired { overdue: false })
        );
        for closed in [Accepted, Declined, Revoked] {
            assert_eq!(
                check_answerable(closed, later, now),
                Err(NotAnswerable::Closed(closed))
            );
        }
    }

    #[test]
    fn enums_serialise_as_stored() {
        for s in InvitationStatus::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for k in crate::domain::OfferKind::ALL {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
    }
}
