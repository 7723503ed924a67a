//! Partner console sessions. Signing in with an API token starts a session; the browser holds
//! only a random 256-bit session id in an HttpOnly, Secure, SameSite=Strict cookie. The server
//! keeps, per session, the SHA-256 digest of the token (so a revoked token ends its sessions
//! within the token cache's time-to-live), a per-session CSRF token, and the times that bound
//! it. Sessions live in this server's memory: a restart signs everyone out, and behind a load
//! balancer with several nodes the console needs sticky sessions (ARCHITECTURE.md).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use sha2::{Digest, Sha256};
use vangnet_core::token::{RandomnessError, TokenDigest, random_secret};

use crate::settings::ConsoleSettings;

#[derive(Debug, Clone)]
struct Session {
    token: TokenDigest,
    csrf: String,
    created: Instant,
    last_seen: Instant,
}

/// What a request learns from a valid session.
#[derive(Debug, Clone)]
pub struct ActiveSession {
    pub token: TokenDigest,
    pub csrf: String,
}

/// The sessions of this server.
#[derive(Debug)]
pub struct Sessions {
    settings: ConsoleSettings,
    by_id_digest: Mutex<HashMap<[u8; 32], Session>>,
}

fn digest(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

impl Sessions {
    pub fn new(settings: ConsoleSettings) -> Self {
        Sessions {
            settings,
            by_id_digest: Mutex::new(HashMap::new()),
        }
    }

    /// Starts a session for a token; returns the session id for the cookie.
    pub fn start(&self, token: TokenDigest, now: Instant) -> Result<String, RandomnessError> {
        let id = hex::encode(random_secret(32)?);
        let csrf = hex::encode(random_secret(32)?);
        let mut sessions = self.by_id_digest.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.expire(&mut sessions, now);
        if sessions.len() >= self.settings.max_sessions.max(1)
            && let Some(oldest) = sessions.iter().min_by_key(|(_, s)| s.last_seen).map(|(k, _)| *k)
        {
            sessions.remove(&oldest);
        }
        sessions.insert(
            digest(&id),
            Session {
                token,
                csrf,
                created: now,
                last_seen: now,
            },
        );
        Ok(id)
    }

    /// The session for a cookie value, if it is still valid; marks it as used.
    pub fn get(&self, id: &str, now: Instant) -> Option<ActiveSession> {
        let mut sessions = self.by_id_digest.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let key = digest(id);
        let session = sessions.get_mut(&key)?;
        if self.expired(session, now) {
            sessions.remove(&key);
            return None;
        }
        session.last_seen = now;
        Some(ActiveSession {
            token: session.token,
            csrf: session.csrf.clone(),
        })
    }

    /// Ends a session (sign out).
    pub fn end(&self, id: &str) {
        self.by_id_digest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&digest(id));
    }

    pub fn len(&self) -> usize {
        self.by_id_digest.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn expired(&self, s: &Session, now: Instant) -> bool {
        now.saturating_duration_since(s.created) > self.settings.session_ttl
            || now.saturating_duration_since(s.last_seen) > self.settings.idle_timeout
    }

    fn expire(&self, sessions: &mut HashMap<[u8; 32], Session>, now: Instant) {
        sessions.retain(|_, s| !self.expired(s, now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn settings(max: usize) -> ConsoleSettings {
        ConsoleSettings {
            session_ttl: Duration::from_secs(100),
            idle_timeout: Duration::from_secs(10),
            max_sessions: max,
        }
    }

    #[test]
    fn sessions_expire_end_and_stay_bounded() {
        let sessions = Sessions::new(settings(2));
        let token = TokenDigest::from_bytes(&[7; 32]).expect("32 bytes");
        let start = Instant::now();
        let a = sessions.start(token, start).expect("rng");
        assert!(sessions.get(&a, start + Duration::from_secs(5)).is_some());
        assert!(sessions.get(&a, start + Duration::from_secs(14)).is_some(), "use keeps it alive");
        assert!(sessions.get(&a, start + Duration::from_secs(25)).is_none(), "idle too long");

        let b = sessions.start(token, start).expect("rng");
        let c = sessions.start(token, start + Duration::from_secs(1)).expect("rng");
        let d = sessions.start(token, start + Duration::from_secs(2)).expect("rng");
        assert_eq!(sessions.len(), 2);
        assert!(sessions.get(&b, start + Duration::from_secs(2)).is_none(), "the oldest went first");
        assert!(sessions.get(&c, start + Duration::from_secs(2)).is_some());
        sessions.end(&d);
        assert!(sessions.get(&d, start + Duration::from_secs(2)).is_none(), "signed out");
        assert!(sessions.get("not-a-session", start).is_none());

        let long = Sessions::new(ConsoleSettings {
            idle_timeout: Duration::from_secs(1000),
            ..settings(5)
        });
        let e = long.start(token, start).expect("rng");
        assert!(
            long.get(&e, start + Duration::from_secs(101)).is_none(),
            "past the session's lifetime"
        );
    }
}
