use std::process::ExitCode;

fn main() -> ExitCode {
    limit_malloc_arenas();
    kanri::cli::main()
}

/// glibc's malloc gives each thread that meets contention an arena of its own, up to eight per
/// core, and memory freed into one arena is not reused by another. The server's threads (the
/// runtime's workers, the blocking pool, one per SQLite connection) each filled one: after the
/// mixed load bench the server held 217 MiB with the default and 146 MiB with one arena per
/// core, at no cost in throughput (README, Benchmarks). `MALLOC_ARENA_MAX` still wins when set.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let arenas = libc::c_int::try_from(cores).unwrap_or(libc::c_int::MAX);
        // SAFETY: mallopt only sets a malloc tuning parameter; this runs before any other
        // thread exists, and a refused value leaves glibc's default in place.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, arenas);
        }
    }
}
