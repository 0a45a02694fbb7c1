//! The key figures of `/metrics` for people (the admin's health page): each named metric's
//! samples summed over their labels, read back from the same text Prometheus scrapes, so the
//! page and a dashboard never disagree.

use std::collections::BTreeMap;

/// The metrics the health page shows, summed over labels.
pub const KEY_METRICS: &[&str] = &[
    super::HTTP_REQUESTS,
    super::JOB_RUNS,
    super::JOB_FAILURES,
    super::WEBHOOK_DELIVERIES,
    super::RATE_LIMITED,
    super::REALTIME_CONNECTIONS,
    super::REALTIME_SUBSCRIPTIONS,
    super::CACHE_HITS,
    super::CACHE_MISSES,
    super::PROCESS_MEMORY,
    super::PROCESS_CPU,
];

/// Every metric in `wanted` with the sum of its samples in the exposition `text` (0 when it
/// has none), and `http_server_errors`: the requests answered with a 5xx status.
pub fn key_figures(text: &str, wanted: &[&str]) -> BTreeMap<String, f64> {
    let mut figures: BTreeMap<String, f64> = wanted.iter().map(|n| (n.to_string(), 0.0)).collect();
    let mut server_errors = 0.0;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let Ok(value) = value.parse::<f64>() else {
            continue;
        };
        let name = series.split('{').next().unwrap_or(series).trim();
        if let Some(total) = figures.get_mut(name) {
            *total += value;
        }
        if name == super::HTTP_REQUESTS && series.contains("status=\"5") {
            server_errors += value;
        }
    }
    figures.insert("http_server_errors".into(), server_errors);
    figures
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_samples_over_labels_and_counts_server_errors() {
        let text = "# HELP http_requests_total Requests.\n\
            # TYPE http_requests_total counter\n\
            http_requests_total{method=\"GET\",route=\"/a\",status=\"200\"} 7\n\
            http_requests_total{method=\"GET\",route=\"/a\",status=\"503\"} 2\n\
            http_requests_total{method=\"POST\",route=\"/b {x}\",status=\"500\"} 1\n\
            process_resident_memory_bytes 1.5e7\n\
            jobs{kind=\"email\",state=\"dead\"} 4\n\
            garbage line\n";
        let figures = key_figures(
            text,
            &[
                "http_requests_total",
                "process_resident_memory_bytes",
                "job_runs_total",
            ],
        );
        assert_eq!(figures["http_requests_total"], 10.0);
        assert_eq!(figures["http_server_errors"], 3.0);
        assert_eq!(figures["process_resident_memory_bytes"], 15_000_000.0);
        assert_eq!(figures["job_runs_total"], 0.0, "absent metrics show as 0");
        assert!(!figures.contains_key("jobs"), "only the wanted metrics");
    }
}
