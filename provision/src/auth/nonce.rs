//! Single-use, short-lived nonces for request signing.
//!
//! A nonce is issued by `GET /api/nonce`, is valid for [`TTL`], and is consumed only
//! after a signature over a request that names it has verified — so a forged request
//! cannot burn someone else's nonce. Outstanding nonces are capped per client IP (a
//! client that hoards nonces only evicts its own oldest) and globally (then issuing
//! fails until some expire or are used).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a nonce stays valid.
pub const TTL: Duration = Duration::from_secs(300);
/// Outstanding nonces per client IP.
pub const PER_IP: usize = 32;
/// Outstanding nonces in total.
pub const GLOBAL: usize = 4096;

#[derive(Debug)]
struct Entry {
    ip: IpAddr,
    expires: Instant,
}

#[derive(Debug, Default)]
struct Inner {
    nonces: HashMap<String, Entry>,
    /// Per IP, nonces in issue order (may hold ones already used or expired).
    by_ip: HashMap<IpAddr, VecDeque<String>>,
}

/// The server's outstanding nonces.
#[derive(Debug, Default)]
pub struct Nonces {
    inner: Mutex<Inner>,
}

/// Why a nonce was not issued.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("too many outstanding nonces; retry in a few seconds")]
pub struct Exhausted;

/// Why a nonce was not accepted.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum NonceError {
    #[error("the nonce is unknown, already used or expired; get a new one from GET /api/nonce")]
    Unknown,
}

impl Nonces {
    pub fn issue(&self, ip: IpAddr) -> Result<String, Exhausted> {
        self.issue_at(ip, Instant::now())
    }

    fn issue_at(&self, ip: IpAddr, now: Instant) -> Result<String, Exhausted> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.prune(now);
        let Inner { nonces, by_ip } = &mut *inner;
        let queue = by_ip.entry(ip).or_default();
        queue.retain(|n| nonces.contains_key(n));
        while queue.len() >= PER_IP {
            if let Some(old) = queue.pop_front() {
                nonces.remove(&old);
            }
        }
        if nonces.len() >= GLOBAL {
            return Err(Exhausted);
        }
        let nonce = crate::random_hex(16);
        queue.push_back(nonce.clone());
        nonces.insert(nonce.clone(), Entry { ip, expires: now + TTL });
        Ok(nonce)
    }

    /// Whether `nonce` is outstanding; does not consume it.
    pub fn check(&self, nonce: &str) -> Result<(), NonceError> {
        self.check_at(nonce, Instant::now())
    }

    fn check_at(&self, nonce: &str, now: Instant) -> Result<(), NonceError> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match inner.nonces.get(nonce) {
            Some(entry) if entry.expires > now => Ok(()),
            _ => Err(NonceError::Unknown),
        }
    }

    /// Consumes `nonce`; fails if it was used meanwhile (two requests racing with one nonce:
    /// exactly one wins) or expired.
    pub fn consume(&self, nonce: &str) -> Result<(), NonceError> {
        self.consume_at(nonce, Instant::now())
    }

    fn consume_at(&self, nonce: &str, now: Instant) -> Result<(), NonceError> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match inner.nonces.remove(nonce) {
            Some(entry) if entry.expires > now => {
                if let Some(queue) = inner.by_ip.get_mut(&entry.ip) {
                    queue.retain(|n| n != nonce);
                }
                Ok(())
            }
            _ => Err(NonceError::Unknown),
        }
    }

    /// Outstanding nonces (for tests and metrics).
    pub fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).nonces.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Inner {
    fn prune(&mut self, now: Instant) {
        self.nonces.retain(|_, e| e.expires > now);
        let nonces = &self.nonces;
        self.by_ip.retain(|_, q| {
            q.retain(|n| nonces.contains_key(n));
            !q.is_empty()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, n])
    }

    #[test]
    fn single_use() {
        let nonces = Nonces::default();
        let n = nonces.issue(ip(1)).unwrap();
        assert_eq!(n.len(), 32);
        nonces.check(&n).unwrap();
        nonces.consume(&n).unwrap();
        assert_eq!(nonces.consume(&n), Err(NonceError::Unknown));
        assert_eq!(nonces.check(&n), Err(NonceError::Unknown));
    }

    #[test]
    fn expires_after_ttl() {
        let nonces = Nonces::default();
        let t0 = Instant::now();
        let n = nonces.issue_at(ip(1), t0).unwrap();
        nonces.check_at(&n, t0 + TTL - Duration::from_secs(1)).unwrap();
        assert_eq!(nonces.check_at(&n, t0 + TTL), Err(NonceError::Unknown));
        assert_eq!(nonces.consume_at(&n, t0 + TTL), Err(NonceError::Unknown));
    }

    #[test]
    fn per_ip_cap_evicts_only_that_ips_oldest() {
        let nonces = Nonces::default();
        let victim = nonces.issue(ip(2)).unwrap();
        let first = nonces.issue(ip(1)).unwrap();
        for _ in 0..PER_IP {
            nonces.issue(ip(1)).unwrap();
        }
        assert_eq!(nonces.check(&first), Err(NonceError::Unknown));
        nonces.check(&victim).unwrap();
        assert_eq!(nonces.len(), PER_IP + 1);
    }

    #[test]
    fn global_cap_refuses() {
        let nonces = Nonces::default();
        let now = Instant::now();
        for i in 0..GLOBAL {
            let addr = IpAddr::from([10, 1, (i / 256) as u8, (i % 256) as u8]);
            nonces.issue_at(addr, now).unwrap();
        }
        assert_eq!(nonces.issue_at(ip(9), now), Err(Exhausted));
        // Expired ones make room again.
        nonces.issue_at(ip(9), now + TTL).unwrap();
    }
}
