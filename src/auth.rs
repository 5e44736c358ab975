//! Bearer-JWT authentication (SPEC section 5).

use std::collections::HashMap;
use std::future::{ready, Ready};
use std::sync::Mutex;

use actix_web::http::header;
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::JwtSettings;
use crate::domain::MpnId;
use crate::error::ApiError;

/// What a caller may act as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    #[serde(rename = "operator")]
    Operator,
    #[serde(rename = "tenantAdmin")]
    TenantAdmin,
    #[serde(rename = "partner")]
    Partner,
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        serde_json::from_value(serde_json::Value::String(s.to_owned()))
            .map_err(|_| format!("unknown role {s:?}: expected operator, tenantAdmin or partner"))
    }
}

/// The claims this service reads and mints.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iss: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mpn: Option<String>,
}

/// The claims read from a verified token. `exp`, `iss`, `aud` and `sub` are checked by
/// the validation; `exp` and `nbf` are kept to re-check a remembered token. `aud` may be
/// a string or a list and `iat` is optional (RFC 7519), so neither is read here.
#[derive(Debug, Deserialize)]
struct TokenClaims {
    // NumericDate may carry a fraction (RFC 7519). Optional here so that a missing
    // `exp` is reported by the validation as such.
    #[serde(default)]
    exp: Option<f64>,
    #[serde(default)]
    nbf: Option<f64>,
    #[serde(default)]
    sub: String,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    tid: Option<Uuid>,
    #[serde(default)]
    mpn: Option<String>,
}

/// An authenticated caller. Roles that need a scope carry it, so a tenant admin always
/// has a tenant and a partner always has an MPN ID.
#[derive(Debug, Clone)]
pub struct Caller {
    pub sub: String,
    pub operator: bool,
    pub admin_of: Option<Uuid>,
    pub partner: Option<MpnId>,
}

impl Caller {
    pub fn is_admin_of(&self, tenant: Uuid) -> bool {
        self.admin_of == Some(tenant)
    }

    pub fn require_operator(&self) -> Result<(), ApiError> {
        if self.operator {
            Ok(())
        } else {
            Err(ApiError::Forbidden("this call is for operators".into()))
        }
    }

    /// Reading a tenant's own data: its admins and operators. Any other caller with a
    /// tenant role learns nothing, not even that the tenant exists (SPEC section 5).
    pub fn require_tenant_access(&self, tenant: Uuid) -> Result<(), ApiError> {
        if self.operator || self.is_admin_of(tenant) {
            Ok(())
        } else if self.admin_of.is_some() {
            Err(ApiError::NotFound(format!("no tenant {tenant}")))
        } else {
            Err(ApiError::Forbidden(
                "this call is for the tenant's admins".into(),
            ))
        }
    }
}

/// Verifies tokens, and mints them where a shared secret is configured.
pub struct Authenticator {
    hs256: Option<(EncodingKey, DecodingKey)>,
    rs256: Option<DecodingKey>,
    issuer: String,
    audience: String,
    leeway_secs: u64,
    token_key: TokenKey,
    verified: Mutex<Remembered>,
}

/// A token whose signature and claims passed: only its time window can change.
struct Verified {
    caller: Caller,
    not_before: i64,
    expires: i64,
}

/// Keys remembered tokens: a 128-bit SipHash-2-4 of the token under a random key, so an
/// entry takes ~150 bytes however long the token (Entra ID tokens run to 2 KB), and
/// nobody without the key can make another token hash like a remembered one.
struct TokenKey(u64, u64);

impl TokenKey {
    fn random() -> Self {
        use rand::Rng;
        let mut rng = rand::thread_rng();
        TokenKey(rng.gen(), rng.gen())
    }

    fn of(&self, token: &str) -> u128 {
        use siphasher::sip128::{Hasher128, SipHasher24};
        let mut hasher = SipHasher24::new_with_keys(self.0, self.1);
        std::hash::Hasher::write(&mut hasher, token.as_bytes());
        hasher.finish128().as_u128()
    }
}

/// Verified tokens by key. When full, the expired ones go; if that frees nothing, all
/// go: a flood of distinct tokens costs verification, never memory.
struct Remembered {
    tokens: HashMap<u128, Verified>,
    capacity: usize,
}

/// Tokens remembered at most (~15 MB): a caller per tenant of a large deployment.
const VERIFIED_CAPACITY: usize = 100_000;

impl Remembered {
    fn new(capacity: usize) -> Self {
        Remembered {
            tokens: HashMap::new(),
            capacity,
        }
    }

    /// Remembers a token; `expired_before` is the expiry (leeway included) of a token
    /// no longer valid now.
    fn insert(&mut self, key: u128, verified: Verified, expired_before: i64) {
        if self.tokens.len() >= self.capacity {
            self.tokens
                .retain(|_, known| known.expires >= expired_before);
            if self.tokens.len() >= self.capacity {
                self.tokens.clear();
            }
        }
        self.tokens.insert(key, verified);
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the RS256 public key file {path}: {cause}")]
    Read { path: String, cause: std::io::Error },
    #[error("the RS256 public key file {path} is not a PEM RSA public key: {cause}")]
    Parse {
        path: String,
        cause: jsonwebtoken::errors::Error,
    },
}

impl Authenticator {
    /// Builds the verifier; with no key at all it returns `None` (development mode).
    pub fn from_settings(settings: &JwtSettings) -> Result<Option<Self>, KeyError> {
        if settings.hs256_secret.is_none() && settings.rs256_public_key_file.is_none() {
            return Ok(None);
        }
        let rs256 = match &settings.rs256_public_key_file {
            None => None,
            Some(path) => {
                let pem = std::fs::read(path).map_err(|cause| KeyError::Read {
                    path: path.clone(),
                    cause,
                })?;
                Some(
                    DecodingKey::from_rsa_pem(&pem).map_err(|cause| KeyError::Parse {
                        path: path.clone(),
                        cause,
                    })?,
                )
            }
        };
        Ok(Some(Self::new(
            settings,
            settings.hs256_secret.as_deref(),
            rs256,
        )))
    }

    /// Development mode: a random secret nobody else knows, valid until the process ends.
    pub fn development(settings: &JwtSettings) -> (Self, String) {
        use rand::RngCore;
        let mut bytes = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut bytes);
        let secret = hex::encode(bytes);
        (Self::new(settings, Some(&secret), None), secret)
    }

    fn new(settings: &JwtSettings, secret: Option<&str>, rs256: Option<DecodingKey>) -> Self {
        Authenticator {
            hs256: secret.map(|s| {
                (
                    EncodingKey::from_secret(s.as_bytes()),
                    DecodingKey::from_secret(s.as_bytes()),
                )
            }),
            rs256,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            leeway_secs: settings.leeway.as_secs(),
            token_key: TokenKey::random(),
            verified: Mutex::new(Remembered::new(VERIFIED_CAPACITY)),
        }
    }

    /// Verifies a token; a token seen before skips the signature check (a sixth of a
    /// read's CPU time) but not the expiry check.
    pub fn verify(&self, token: &str) -> Result<Caller, ApiError> {
        let now = jsonwebtoken::get_current_timestamp() as i64;
        let leeway = self.leeway_secs as i64;
        // Hashed before the lock: a token can be 2 KB.
        let key = self.token_key.of(token);
        if let Some(known) = self.remembered().tokens.get(&key) {
            if known.not_before.saturating_sub(leeway) <= now
                && now <= known.expires.saturating_add(leeway)
            {
                return Ok(known.caller.clone());
            }
        }
        let (caller, not_before, expires) = self.verify_signed(token)?;
        self.remembered().insert(
            key,
            Verified {
                caller: caller.clone(),
                not_before,
                expires,
            },
            now.saturating_sub(leeway),
        );
        Ok(caller)
    }

    fn remembered(&self) -> std::sync::MutexGuard<'_, Remembered> {
        // The map holds no invariant a panicking holder could break.
        self.verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn verify_signed(&self, token: &str) -> Result<(Caller, i64, i64), ApiError> {
        let bad =
            |why: &str| ApiError::Unauthorized(format!("the bearer token is not valid: {why}"));
        // `alg: none` and unknown algorithms fail here: jsonwebtoken has no such variant.
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| bad("malformed token or unsupported algorithm"))?;
        // Each algorithm has its own key, so an HS256 token signed with the RSA public
        // key (algorithm confusion) is checked against the HS256 secret and fails.
        let key = match header.alg {
            Algorithm::HS256 => self.hs256.as_ref().map(|(_, d)| d),
            Algorithm::RS256 => self.rs256.as_ref(),
            _ => None,
        }
        .ok_or_else(|| bad("algorithm not accepted"))?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = self.leeway_secs;
        validation.validate_nbf = true;
        let data = jsonwebtoken::decode::<TokenClaims>(token, key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            match e.kind() {
                K::ExpiredSignature => bad("expired"),
                K::InvalidIssuer => bad("wrong issuer"),
                K::InvalidAudience => bad("wrong audience"),
                K::InvalidSignature => bad("bad signature"),
                K::ImmatureSignature => bad("not valid yet"),
                K::MissingRequiredClaim(c) => bad(&format!("missing claim {c}")),
                _ => bad("malformed claims"),
            }
        })?;
        let not_before = data.claims.nbf.map_or(i64::MIN, |nbf| nbf.ceil() as i64);
        let expires = data.claims.exp.map_or(i64::MIN, |exp| exp.floor() as i64);
        let caller = caller_from(data.claims).map_err(|why| bad(&why))?;
        if !(caller.operator || caller.admin_of.is_some() || caller.partner.is_some()) {
            return Err(ApiError::Forbidden(
                "the token grants none of the roles operator, tenantAdmin or partner".into(),
            ));
        }
        Ok((caller, not_before, expires))
    }

    /// Mints a token with the shared secret; `None` where only a public key is configured.
    pub fn mint(&self, claims: &Claims) -> Option<String> {
        let (encoding, _) = self.hs256.as_ref()?;
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, encoding).ok()
    }

    /// Claims for a token of this service's issuer and audience.
    pub fn claims(
        &self,
        sub: &str,
        role: Role,
        tid: Option<Uuid>,
        mpn: Option<MpnId>,
        ttl_secs: i64,
    ) -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            sub: sub.to_owned(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            exp: now + ttl_secs,
            iat: now,
            roles: vec![serde_json::to_value(role)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()],
            tid,
            mpn: mpn.map(|m| m.to_string()),
        }
    }
}

fn caller_from(claims: TokenClaims) -> Result<Caller, String> {
    if claims.sub.trim().is_empty() {
        return Err("the sub claim is empty".into());
    }
    let roles: Vec<Role> = claims.roles.iter().filter_map(|r| r.parse().ok()).collect();
    let admin_of = if roles.contains(&Role::TenantAdmin) {
        Some(claims.tid.ok_or("a tenantAdmin token needs a tid claim")?)
    } else {
        None
    };
    let partner = if roles.contains(&Role::Partner) {
        let mpn = claims.mpn.ok_or("a partner token needs an mpn claim")?;
        Some(MpnId::parse(&mpn).map_err(|e| format!("mpn claim: {e}"))?)
    } else {
        None
    };
    Ok(Caller {
        sub: claims.sub,
        operator: roles.contains(&Role::Operator),
        admin_of,
        partner,
    })
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req))
    }
}

fn authenticate(req: &HttpRequest) -> Result<Caller, ApiError> {
    let auth = req
        .app_data::<web::Data<Authenticator>>()
        .ok_or_else(|| ApiError::internal("no authenticator configured"))?;
    let value = req.headers().get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::Unauthorized("an Authorization: Bearer token is required".into())
    })?;
    let text = value
        .to_str()
        .map_err(|_| ApiError::Unauthorized("the Authorization header is not text".into()))?;
    let token = text
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or_else(|| ApiError::Unauthorized("the Authorization scheme must be Bearer".into()))?;
    auth.verify(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authenticator() -> Authenticator {
        let settings = JwtSettings {
            hs256_secret: None,
            rs256_public_key_file: None,
            issuer: "iss".into(),
            audience: "aud".into(),
            leeway: std::time::Duration::ZERO,
        };
        Authenticator::development(&settings).0
    }

    #[test]
    fn a_remembered_token_is_still_refused_once_it_expires() {
        let auth = authenticator();
        let claims = auth.claims("op", Role::Operator, None, None, 1);
        let token = auth.mint(&claims).unwrap();
        assert!(auth.verify(&token).is_ok());
        assert!(auth.verify(&token).is_ok(), "served from memory");
        while jsonwebtoken::get_current_timestamp() as i64 <= claims.exp {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let refused = auth.verify(&token).unwrap_err();
        assert!(refused.to_string().contains("expired"), "{refused}");
    }

    #[test]
    fn a_full_cache_drops_expired_tokens_first_and_else_starts_over() {
        let verified = |expires| Verified {
            caller: Caller {
                sub: "op".into(),
                operator: true,
                admin_of: None,
                partner: None,
            },
            not_before: 0,
            expires,
        };
        let mut remembered = Remembered::new(3);
        remembered.insert(1, verified(100), 0);
        remembered.insert(2, verified(500), 0);
        remembered.insert(3, verified(100), 0);
        remembered.insert(4, verified(500), 200);
        let mut kept: Vec<_> = remembered.tokens.keys().copied().collect();
        kept.sort_unstable();
        assert_eq!(kept, [2, 4], "the expired 1 and 3 went, the live 2 stayed");
        remembered.insert(5, verified(500), 200);
        remembered.insert(6, verified(500), 200);
        assert_eq!(
            remembered.tokens.keys().collect::<Vec<_>>(),
            [&6],
            "all live: started over"
        );
    }

    #[test]
    fn only_the_same_token_is_remembered() {
        let auth = authenticator();
        let claims = auth.claims("op", Role::Operator, None, None, 60);
        let token = auth.mint(&claims).unwrap();
        assert!(auth.verify(&token).is_ok());
        let key = auth.token_key.of(&token);
        assert!(auth.remembered().tokens.contains_key(&key));
        let mut forged = token.clone();
        forged.pop();
        assert!(!auth
            .remembered()
            .tokens
            .contains_key(&auth.token_key.of(&forged)));
        assert!(auth.verify(&forged).is_err());
        // Two services hash the same token differently: the key is not guessable.
        assert_ne!(TokenKey::random().of(&token), TokenKey::random().of(&token));
    }
}
