//! Telling integrators about changes (issue 12): which subscription wants which event, what a message
//! carries, and when a failed delivery is tried again or given up.
//!
//! The retry schedule follows the Standard Webhooks recommendation (exponential back-off with jitter,
//! for a bounded time, then the message is dead-lettered and waits for a replay); the message is a
//! CloudEvents 1.0 structured event that, like the Dutch ZGW Notificaties API's, is information-poor:
//! ids, status and a link, never a person's IIN, name or form data.

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
}
