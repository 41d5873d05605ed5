//! glibc's allocator, set up for a long-running controller.
//!
//! Why: glibc gives threads their own arenas (up to eight per core) and, after the first large
//! buffers are freed, raises the size above which it maps big allocations separately (up to
//! 32 MiB). In this process both keep memory that was only needed for a moment: a burst of
//! reconciles at start or at a resync, and the pages of an inventory sweep (a 1,000-number
//! Twilio page is ~1.5 MB of text), leave freed memory spread over several arenas and high in
//! the heap, where it stays resident. With one arena and a fixed 128 KiB mapping threshold the
//! operator at 10,000 numbers peaks at 56 MiB instead of 60 (converge), 52 instead of 64
//! (restart) and 58 instead of 74 (a drift resync), for the same CPU within noise
//! (BENCHMARKS.md). Allocation contention stays low: glibc's per-thread caches serve most small
//! allocations without the arena's lock, and the operator runs on two worker threads.
//!
//! Each setting applies only when the environment does not set it already (`MALLOC_ARENA_MAX`,
//! `MALLOC_MMAP_THRESHOLD_`, which glibc reads itself), so an operator of the process can
//! still choose. Other C libraries (musl) are left as they are.

/// Arenas of the process (glibc's default: eight per core).
pub const ARENAS: i32 = 1;

/// Allocations of at least this many bytes are mapped on their own and returned to the system
/// when freed (glibc's default starts here but grows with what is freed, up to 32 MiB).
pub const MMAP_THRESHOLD: i32 = 128 * 1024;

/// Applies [`ARENAS`] and [`MMAP_THRESHOLD`] unless the environment sets them. Call it first
/// in `main`, before any thread starts.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
            // SAFETY: mallopt only changes allocator parameters; it is called before any other
            // thread exists, and glibc accepts any value (it answers 0 for one it refuses).
            unsafe { libc::mallopt(libc::M_ARENA_MAX, ARENAS) };
        }
        if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
            // SAFETY: as above.
            unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) };
        }
    }
}
