//! Subscription lifecycle rules (SPEC section 3, issue 3 point 8).

use super::SubscriptionStatus;

/// Why a status change is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {from} subscription cannot become {to}")]
pub struct InvalidTransition {
    pub from: SubscriptionStatus,
    pub to: SubscriptionStatus,
}

/// active ↔ suspended, trial → active, anything but cancelled → cancelled.
/// Asking for the current status is no change and always allowed.
pub fn check_transition(
    from: SubscriptionStatus,
    to: SubscriptionStatus,
) -> Result<(), InvalidTransition> {
    use SubscriptionStatus::*;
    let allowed = from == to
        || matches!(
            (from, to),
            (Active, Suspended)
                | (Suspended, Active)
                | (Trial, Active)
                | (Trial | Active | Suspended, Cancelled)
        );
    if allowed {
        Ok(())
    } else {
        Err(InvalidTransition { from, to })
    }
}

/// A strong entity tag for a row version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// Whether an `If-Match` header value admits the current version. Weak tags never
/// match (RFC 9110 uses the strong comparison for If-Match).
pub fn if_match_admits(header: &str, version: i64) -> bool {
    let current = etag(version);
    header
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag == current)
}

#[cfg(test)]
mod tests {
    use super::*;
    use SubscriptionStatus::*;

    #[test]
    fn transitions() {
        for (from, to) in [
            (Active, Suspended),
            (Suspended, Active),
            (Trial, Active),
            (Trial, Cancelled),
            (Active, Cancelled),
            (Suspended, Cancelled),
            (Active, Active),
        ] {
            assert!(check_transition(from, to).is_ok(), "{from} -> {to}");
        }
        for (from, to) in [
            (Cancelled, Active),
            (Cancelled, Suspended),
            (Active, Trial),
            (Suspended, Trial),
            (Trial, Suspended),
        ] {
            assert!(check_transition(from, to).is_err(), "{from} -> {to}");
        }
    }

    #[test]
    fn if_match_uses_strong_comparison() {
        assert!(if_match_admits("\"3\"", 3));
        assert!(if_match_admits("\"1\", \"3\"", 3));
        assert!(if_match_admits("*", 3));
        assert!(!if_match_admits("\"2\"", 3));
        assert!(!if_match_admits("W/\"3\"", 3));
    }
}
