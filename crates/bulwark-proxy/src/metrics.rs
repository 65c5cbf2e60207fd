//! Counters and a latency histogram, rendered in the Prometheus text format at
//! `/-/bulwark/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// What a request asked for (the `route` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RouteKind {
    Packument,
    Tarball,
    Internal,
    Other,
}

impl RouteKind {
    const ALL: [Self; 4] = [Self::Packument, Self::Tarball, Self::Internal, Self::Other];

    fn label(self) -> &'static str {
        match self {
            Self::Packument => "packument",
            Self::Tarball => "tarball",
            Self::Internal => "internal",
            Self::Other => "other",
        }
    }
}

/// The gate's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: [AtomicU64; 4],
    packument_hits: AtomicU64,
    packument_misses: AtomicU64,
    tarball_hits: AtomicU64,
    tarball_misses: AtomicU64,
    upstream_errors: AtomicU64,
    analyses: AtomicU64,
    blocks: Mutex<BTreeMap<String, u64>>,
    latency_buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
}

impl Metrics {
    pub(crate) fn request(&self, route: RouteKind, elapsed: Duration) {
        let index = RouteKind::ALL.iter().position(|r| *r == route).unwrap_or(3);
        self.requests[index].fetch_add(1, Ordering::Relaxed);
        let seconds = elapsed.as_secs_f64();
        if let Some(bucket) = BUCKETS.iter().position(|bound| seconds <= *bound) {
            self.latency_buckets[bucket].fetch_add(1, Ordering::Relaxed);
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_micros.fetch_add(
            u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    pub(crate) fn packument_cache(&self, hit: bool) {
        let counter = if hit {
            &self.packument_hits
        } else {
            &self.packument_misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn tarball_cache(&self, hit: bool) {
        let counter = if hit {
            &self.tarball_hits
        } else {
            &self.tarball_misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn upstream_error(&self) {
        self.upstream_errors.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn analysis(&self) {
        self.analyses.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn block(&self, reason: &str) {
        let mut blocks = self
            .blocks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *blocks.entry(reason.to_owned()).or_default() += 1;
    }

    /// The Prometheus text exposition of every counter.
    #[must_use]
    pub fn render(&self) -> String {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let mut out = String::with_capacity(2048);
        out.push_str("# HELP bulwark_requests_total Requests served, by route.\n");
        out.push_str("# TYPE bulwark_requests_total counter\n");
        for (route, counter) in RouteKind::ALL.iter().zip(&self.requests) {
            let _ = writeln!(
                out,
                "bulwark_requests_total{{route=\"{}\"}} {}",
                route.label(),
                load(counter)
            );
        }
        out.push_str("# HELP bulwark_cache_hits_total Requests answered from the gate's cache.\n");
        out.push_str("# TYPE bulwark_cache_hits_total counter\n");
        let _ = writeln!(
            out,
            "bulwark_cache_hits_total{{kind=\"packument\"}} {}",
            load(&self.packument_hits)
        );
        let _ = writeln!(
            out,
            "bulwark_cache_hits_total{{kind=\"tarball\"}} {}",
            load(&self.tarball_hits)
        );
        out.push_str("# HELP bulwark_cache_misses_total Requests that went to the upstream.\n");
        out.push_str("# TYPE bulwark_cache_misses_total counter\n");
        let _ = writeln!(
            out,
            "bulwark_cache_misses_total{{kind=\"packument\"}} {}",
            load(&self.packument_misses)
        );
        let _ = writeln!(
            out,
            "bulwark_cache_misses_total{{kind=\"tarball\"}} {}",
            load(&self.tarball_misses)
        );
        out.push_str("# HELP bulwark_blocks_total Versions blocked, by reason.\n");
        out.push_str("# TYPE bulwark_blocks_total counter\n");
        let blocks = self
            .blocks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (reason, count) in blocks.iter() {
            let _ = writeln!(out, "bulwark_blocks_total{{reason=\"{reason}\"}} {count}");
        }
        drop(blocks);
        out.push_str("# HELP bulwark_upstream_errors_total Failed upstream requests.\n");
        out.push_str("# TYPE bulwark_upstream_errors_total counter\n");
        let _ = writeln!(
            out,
            "bulwark_upstream_errors_total {}",
            load(&self.upstream_errors)
        );
        out.push_str("# HELP bulwark_analyses_total Tarballs analysed.\n");
        out.push_str("# TYPE bulwark_analyses_total counter\n");
        let _ = writeln!(out, "bulwark_analyses_total {}", load(&self.analyses));
        out.push_str("# HELP bulwark_request_duration_seconds Time to answer a request.\n");
        out.push_str("# TYPE bulwark_request_duration_seconds histogram\n");
        let mut cumulative = 0;
        for (bound, counter) in BUCKETS.iter().zip(&self.latency_buckets) {
            cumulative += load(counter);
            let _ = writeln!(
                out,
                "bulwark_request_duration_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
            );
        }
        let count = load(&self.latency_count);
        let _ = writeln!(
            out,
            "bulwark_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        #[expect(
            clippy::cast_precision_loss,
            reason = "a sum of microseconds, shown in seconds"
        )]
        let sum = load(&self.latency_sum_micros) as f64 / 1e6;
        let _ = writeln!(out, "bulwark_request_duration_seconds_sum {sum}");
        let _ = writeln!(out, "bulwark_request_duration_seconds_count {count}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let metrics = Metrics::default();
        metrics.request(RouteKind::Packument, Duration::from_micros(300));
        metrics.request(RouteKind::Tarball, Duration::from_millis(3));
        metrics.block("too-new");
        metrics.block("too-new");
        metrics.packument_cache(true);
        let text = metrics.render();
        assert!(
            text.contains("bulwark_requests_total{route=\"packument\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("bulwark_blocks_total{reason=\"too-new\"} 2\n"));
        assert!(text.contains("bulwark_cache_hits_total{kind=\"packument\"} 1\n"));
        assert!(text.contains("bulwark_request_duration_seconds_bucket{le=\"0.0005\"} 1\n"));
        assert!(text.contains("bulwark_request_duration_seconds_bucket{le=\"0.005\"} 2\n"));
        assert!(text.contains("bulwark_request_duration_seconds_count 2\n"));
    }
}
