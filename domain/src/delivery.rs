//! Telling integrators about changes (issue 12): which subscription wants which event, what a message
//! carries, and when a failed delivery is tried again or given up.
//!
//! The retry schedule follows the Standard Webhooks recommendation (exponential back-off with jitter,
//! for a bounded time, then the message is dead-lettered and waits for a replay); the message is a
//! CloudEvents 1.0 structured event that, like the Dutch ZGW Notificaties API's, is information-poor:
//! ids, status and a link, never a person's IIN, name or form data.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// When to try again after a failed attempt, and when to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the first failure.
    pub first_delay: Duration,
    /// Each further failure multiplies the wait by this.
    pub factor: u32,
    /// No single wait is longer.
    pub max_delay: Duration,
    /// Counted from the first attempt of the current window (a replay opens a new one): a retry that
    /// would fall later is not made; the delivery is dead.
    pub give_up_after: Duration,
}

impl Default for RetryPolicy {
    /// 5 s, 30 s, 3 min, 15 min, 1.5 h, 6 h, 6 h ... for one day: close to the Standard Webhooks
    /// reference schedule.
    fn default() -> Self {
        RetryPolicy {
            first_delay: Duration::seconds(5),
            factor: 6,
            max_delay: Duration::hours(6),
            give_up_after: Duration::hours(24),
        }
    }
}

/// What follows a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Try again at this moment.
    RetryAt(DateTime<Utc>),
    /// The bounded time is spent: the delivery is dead-lettered.
    Dead,
}

impl RetryPolicy {
    /// The wait after `failures` failed attempts (1 for the first), before jitter.
    pub fn base_delay(&self, failures: u32) -> Duration {
        let mut delay = self.first_delay;
        for _ in 1..failures.max(1) {
            delay = delay.checked_mul(self.factor as i32).unwrap_or(self.max_delay);
            if delay >= self.max_delay {
                return self.max_delay;
            }
        }
        delay.min(self.max_delay)
    }

    /// After the `failures`-th failed attempt at `now`, in a retry window opened at `window_start`:
    /// when to try next, with `jitter` (a number in [0, 1), drawn by the caller) spreading the wait
    /// over 80 % to 120 % of the base delay so that many receivers failing at once do not come back at
    /// once.
    pub fn after_failure(
        &self,
        failures: u32,
        window_start: DateTime<Utc>,
        now: DateTime<Utc>,
        jitter: f64,
    ) -> AfterFailure {
        let base = self.base_delay(failures);
        let spread = 0.8 + 0.4 * jitter.clamp(0.0, 1.0);
        let millis = (base.num_milliseconds() as f64 * spread).round() as i64;
        let next = now + Duration::milliseconds(millis.max(1));
        if next > window_start + self.give_up_after {
            AfterFailure::Dead
        } else {
            AfterFailure::RetryAt(next)
        }
    }
}

/// Which events a subscription wants; an empty list means any.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    /// Event kinds (`application.approve`), or a prefix ending in `*` (`application.*`).
    #[serde(default)]
    pub kinds: Vec<String>,
    #[serde(default)]
    pub service_keys: Vec<String>,
    #[serde(default)]
    pub providers: Vec<String>,
}

impl Filter {
    pub fn matches(&self, kind: &str, service_key: Option<&str>, provider: &str) -> bool {
        let kind_ok = self.kinds.is_empty()
            || self.kinds.iter().any(|k| match k.strip_suffix('*') {
                Some(prefix) => kind.starts_with(prefix),
                None => k == kind,
            });
        let service_ok =
            self.service_keys.is_empty() || service_key.is_some_and(|s| self.service_keys.iter().any(|k| k == s));
        let provider_ok = self.providers.is_empty() || self.providers.iter().any(|p| p == provider);
        kind_ok && service_ok && provider_ok
    }
}

/// The CloudEvents `type` of an event kind: reverse-DNS, as the specification recommends.
pub fn cloud_event_type(kind: &str) -> String {
    format!("kz.gov.family.{kind}")
}

/// What an event says, as much as a message may carry.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice<'a> {
    pub event_id: i64,
    pub kind: &'a str,
    pub occurred_at: DateTime<Utc>,
    pub application_id: &'a str,
    pub registration_number: Option<&'a str>,
    pub service_key: Option<&'a str>,
    pub provider_id: &'a str,
    pub status: Option<&'a str>,
    pub version: Option<i64>,
}

impl Notice<'_> {
    /// The CloudEvents 1.0 structured-mode event: `source` is the API's base (`https://host/api/v1`),
    /// `subject` and `data.url` name the application, which the subscriber reads with its own rights.
    /// Only the fields below are ever sent: nothing from the event's payload is passed through, so no
    /// personal data can slip in with a new kind of event.
    pub fn cloud_event(&self, api_base: &str) -> Value {
        let path = format!("applications/{}", self.application_id);
        json!({
            "specversion": "1.0",
            "id": self.event_id.to_string(),
            "source": api_base,
            "type": cloud_event_type(self.kind),
            "subject": path,
            "time": self.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "datacontenttype": "application/json",
            "data": {
                "event_id": self.event_id,
                "kind": self.kind,
                "application_id": self.application_id,
                "registration_number": self.registration_number,
                "service_key": self.service_key,
                "provider_id": self.provider_id,
                "status": self.status,
                "version": self.version,
                "url": format!("{api_base}/{path}"),
            },
        })
    }
}

/// Where webhooks may be sent: public addresses, and the private networks an operator allows
/// (`DELIVERY_ALLOWED_NETWORKS`). A subscriber names the URL, and this server calls it from inside
/// the state's network, so without this anyone allowed to subscribe could make it call its own
/// loopback, a database port, the cloud's metadata address (169.254.169.254) or an internal service
/// (server-side request forgery, OWASP API Security Top 10 2023, API7). The check is made on the
/// URL when the subscription is created and on every address a name resolves to when a message is
/// sent, so a name that later resolves elsewhere (DNS rebinding) is caught too.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    allowed: Vec<Network>,
}

/// An IP network in CIDR notation (`10.20.0.0/16`, `fd00::/8`, or one address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    pub fn parse(s: &str) -> Result<Network, String> {
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| format!("`{s}` is not an IP address or network"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("`{s}`: the prefix must be 0 to {max}"))?,
            None => max,
        };
        Ok(Network { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl AddressPolicy {
    /// Public addresses only.
    pub fn public_only() -> AddressPolicy {
        AddressPolicy::default()
    }

    /// Public addresses and these networks.
    pub fn allowing(allowed: Vec<Network>) -> AddressPolicy {
        AddressPolicy { allowed }
    }

    /// A comma-separated list of networks, as `DELIVERY_ALLOWED_NETWORKS` gives it (empty: none).
    pub fn parse(list: &str) -> Result<AddressPolicy, String> {
        let allowed = list.split(',').filter(|s| !s.trim().is_empty()).map(Network::parse).collect::<Result<_, _>>()?;
        Ok(AddressPolicy { allowed })
    }

    /// Why a message may not be sent to `ip`, or `None` when it may.
    pub fn refusal(&self, ip: IpAddr) -> Option<&'static str> {
        // An IPv4 address carried in IPv6 (mapped ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64
        // 64:ff9b::a.b.c.d, 6to4 2002:aabb:ccdd::) reaches that IPv4 address: it is judged as one.
        let ip = match ip {
            IpAddr::V6(v6) => embedded_ipv4(v6).map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let reason = special_range(ip)?;
        if self.allowed.iter().any(|n| n.contains(ip)) {
            None
        } else {
            Some(reason)
        }
    }
}

/// The IPv4 address an IPv6 address carries by one of the standard embeddings, if it does.
fn embedded_ipv4(a: std::net::Ipv6Addr) -> Option<std::net::Ipv4Addr> {
    let seg = a.segments();
    let last32 = || std::net::Ipv4Addr::from(((u32::from(seg[6])) << 16) | u32::from(seg[7]));
    if let Some(v4) = a.to_ipv4_mapped() {
        return Some(v4);
    }
    // IPv4-compatible (::/96, deprecated) but not :: and ::1 themselves.
    if seg[..6].iter().all(|s| *s == 0) && (seg[6] != 0 || seg[7] > 1) {
        return Some(last32());
    }
    // The well-known NAT64 prefix (RFC 6052).
    if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(last32());
    }
    // 6to4 (RFC 3056): 2002:AABB:CCDD::/48.
    if seg[0] == 0x2002 {
        return Some(std::net::Ipv4Addr::from((u32::from(seg[1]) << 16) | u32::from(seg[2])));
    }
    None
}

/// The address ranges that are not the public internet, named (RFC 6890 and its successors).
fn special_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(a) => {
            let [o0, o1, ..] = a.octets();
            if a.is_loopback() {
                Some("a loopback address")
            } else if a.is_private() {
                Some("a private address (RFC 1918)")
            } else if a.is_link_local() {
                Some("a link-local address (the cloud metadata service among them)")
            } else if o0 == 0 || a.is_broadcast() {
                Some("not a host address")
            } else if o0 == 100 && (o1 & 0xc0) == 64 {
                Some("a shared address space address (RFC 6598)")
            } else if o0 == 198 && (o1 & 0xfe) == 18 {
                Some("a benchmarking address (RFC 2544)")
            } else if a.is_multicast() || o0 >= 240 {
                Some("a multicast or reserved address")
            } else if a.is_documentation() {
                Some("a documentation address")
            } else {
                None
            }
        }
        IpAddr::V6(a) => {
            let first = a.segments()[0];
            if a.is_loopback() {
                Some("a loopback address")
            } else if a.is_unspecified() {
                Some("not a host address")
            } else if (first & 0xfe00) == 0xfc00 {
                Some("a unique local address (RFC 4193)")
            } else if (first & 0xffc0) == 0xfe80 {
                Some("a link-local address")
            } else if (first & 0xffc0) == 0xfec0 {
                Some("a site-local address (deprecated, RFC 3879)")
            } else if first == 0x64 && a.segments()[1] == 0xff9b {
                Some("a local-use NAT64 address (RFC 8215)")
            } else if a.is_multicast() {
                Some("a multicast address")
            } else if first == 0x2001 && a.segments()[1] == 0x0db8 {
                Some("a documentation address")
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 2, h, m, s).unwrap()
    }

    #[test]
    fn the_wait_grows_exponentially_up_to_the_cap() {
        let p = RetryPolicy::default();
        let waits: Vec<i64> = (1..=8).map(|n| p.base_delay(n).num_seconds()).collect();
        assert_eq!(waits, vec![5, 30, 180, 1080, 6480, 21600, 21600, 21600]);
        // Large failure counts do not overflow.
        assert_eq!(p.base_delay(1000), Duration::hours(6));
    }

    #[test]
    fn jitter_spreads_the_wait_between_80_and_120_percent() {
        let p = RetryPolicy::default();
        let now = at(10, 0, 0);
        assert_eq!(p.after_failure(1, now, now, 0.0), AfterFailure::RetryAt(now + Duration::seconds(4)));
        assert_eq!(p.after_failure(1, now, now, 0.5), AfterFailure::RetryAt(now + Duration::seconds(5)));
        assert_eq!(p.after_failure(1, now, now, 0.999_999), AfterFailure::RetryAt(now + Duration::seconds(6)));
        assert_eq!(p.after_failure(2, now, now, 0.0), AfterFailure::RetryAt(now + Duration::seconds(24)));
    }

    #[test]
    fn a_retry_past_the_bounded_time_is_not_made_the_delivery_is_dead() {
        let p = RetryPolicy::default();
        let opened = at(0, 0, 0);
        // 23 h into the window a 6 h wait would end past 24 h.
        assert_eq!(p.after_failure(7, opened, opened + Duration::hours(23), 0.5), AfterFailure::Dead);
        // 17 h in it still fits.
        let now = opened + Duration::hours(17);
        assert_eq!(p.after_failure(7, opened, now, 0.5), AfterFailure::RetryAt(now + Duration::hours(6)));
        // A tiny window (as tests configure it) dead-letters after the first failure.
        let tiny = RetryPolicy { give_up_after: Duration::seconds(1), ..p };
        assert_eq!(tiny.after_failure(1, opened, opened, 0.0), AfterFailure::Dead);
    }

    #[test]
    fn filters_match_kinds_prefixes_services_and_providers() {
        let any = Filter::default();
        assert!(any.matches("application.submit", None, "astana-education"));
        let f = Filter {
            kinds: vec!["application.approve".into(), "complaint.*".into()],
            service_keys: vec!["free_school_meals".into()],
            providers: vec![],
        };
        assert!(f.matches("application.approve", Some("free_school_meals"), "p"));
        assert!(!f.matches("application.submit", Some("free_school_meals"), "p"));
        assert!(f.matches("complaint.filed", Some("free_school_meals"), "p"));
        assert!(!f.matches("application.approve", Some("preschool_queue"), "p"));
        assert!(!f.matches("application.approve", None, "p"), "a service filter needs the event's service");
        let by_provider = Filter { providers: vec!["almaty-education".into()], ..Filter::default() };
        assert!(!by_provider.matches("application.submit", None, "astana-education"));
        assert!(by_provider.matches("application.submit", None, "almaty-education"));
    }

    #[test]
    fn the_cloud_event_carries_ids_status_and_a_link_only() {
        let n = Notice {
            event_id: 42,
            kind: "application.approve",
            occurred_at: at(5, 0, 0),
            application_id: "0193-app",
            registration_number: Some("FSM-2026-000001"),
            service_key: Some("free_school_meals"),
            provider_id: "astana-education",
            status: Some("approved"),
            version: Some(4),
        };
        let ce = n.cloud_event("https://egov.example.kz/api/v1");
        assert_eq!(ce["specversion"], "1.0");
        assert_eq!(ce["id"], "42");
        assert_eq!(ce["type"], "kz.gov.family.application.approve");
        assert_eq!(ce["subject"], "applications/0193-app");
        assert_eq!(ce["time"], "2026-12-02T05:00:00Z");
        assert_eq!(ce["data"]["url"], "https://egov.example.kz/api/v1/applications/0193-app");
        let mut keys: Vec<&str> = ce["data"].as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            vec![
                "application_id",
                "event_id",
                "kind",
                "provider_id",
                "registration_number",
                "service_key",
                "status",
                "url",
                "version"
            ]
        );
    }

    #[test]
    fn webhooks_go_to_public_addresses_and_allowed_networks_only() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let public = AddressPolicy::public_only();
        assert_eq!(public.refusal(ip("91.201.214.1")), None);
        assert_eq!(public.refusal(ip("2a00:1450:4001:82b::200e")), None);
        for (blocked, why) in [
            ("127.0.0.1", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "metadata"),
            ("0.0.0.0", "not a host"),
            ("100.64.0.1", "shared"),
            ("224.0.0.1", "multicast"),
            ("::1", "loopback"),
            ("fd12::1", "unique local"),
            ("fe80::1", "link-local"),
            ("::ffff:10.0.0.1", "private"),
            ("::127.0.0.1", "loopback"),
            ("64:ff9b::10.0.0.1", "private"),
            ("64:ff9b:1::1", "NAT64"),
            ("2002:a00:1::1", "private"),
            ("fec0::1", "site-local"),
        ] {
            let reason = public.refusal(ip(blocked)).unwrap_or_else(|| panic!("{blocked} must be refused"));
            assert!(reason.contains(why), "{blocked}: {reason}");
        }
        // 172.32.0.1 is outside 172.16.0.0/12: public; so are public IPv4 addresses carried in IPv6.
        assert_eq!(public.refusal(ip("172.32.0.1")), None);
        assert_eq!(public.refusal(ip("64:ff9b::5bc9:d601")), None);
        assert_eq!(public.refusal(ip("2002:5bc9:d601::1")), None);

        let internal = AddressPolicy::parse("10.20.0.0/16, fd00::/8,127.0.0.1").unwrap();
        assert_eq!(internal.refusal(ip("10.20.5.6")), None);
        assert!(internal.refusal(ip("10.21.0.1")).is_some());
        assert_eq!(internal.refusal(ip("fd00::5")), None);
        assert_eq!(internal.refusal(ip("127.0.0.1")), None);
        assert!(internal.refusal(ip("127.0.0.2")).is_some());
        assert_eq!(AddressPolicy::parse("").unwrap(), AddressPolicy::public_only());
        assert!(AddressPolicy::parse("10.0.0.0/33").is_err());
        assert!(AddressPolicy::parse("intranet").is_err());
        assert!(Network::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
    }
}
