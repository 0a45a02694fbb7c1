//! Resident memory and CPU time of this process, read from `/proc/self` (Linux). Elsewhere
//! there is no sample and the two gauges are absent.

pub(super) struct Sample {
    pub resident_bytes: u64,
    pub cpu_seconds: f64,
}

/// Clock ticks per second in `/proc/<pid>/stat`: the kernel's USER_HZ, which Linux fixes at
/// 100 for userspace on every architecture it supports, whatever the internal tick rate.
const USER_HZ: f64 = 100.0;

pub(super) fn sample() -> Option<Sample> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    Some(Sample {
        resident_bytes: resident_bytes(&status)?,
        cpu_seconds: cpu_seconds(&stat)?,
    })
}

/// `VmRSS:   12345 kB` from `/proc/self/status` (in KiB, whatever the page size).
fn resident_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// utime + stime, fields 14 and 15 of `/proc/self/stat`. The command name (field 2) is in
/// parentheses and may hold spaces, so fields are counted after its closing `)`.
fn cpu_seconds(stat: &str) -> Option<f64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    #[allow(clippy::cast_precision_loss)]
    Some((utime + stime) as f64 / USER_HZ)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_status_and_stat() {
        let status = "Name:\tkanri\nVmPeak:\t  9000 kB\nVmRSS:\t    2048 kB\nThreads:\t4\n";
        assert_eq!(resident_bytes(status), Some(2048 * 1024));
        let stat = "4242 (kan ri) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 50 0 0 20 0 4 0";
        assert_eq!(cpu_seconds(stat), Some(3.0));
        assert_eq!(cpu_seconds("garbage"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_has_memory_and_cpu() {
        let s = sample().expect("/proc/self is readable on Linux");
        assert!(s.resident_bytes > 1024 * 1024);
        assert!(s.cpu_seconds >= 0.0);
    }
}
