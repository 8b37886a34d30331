//! A core file of `ghl` can hold the token (a crash of `ghl mcp` left it in
//! the core three times): no core dumps, and on Linux no ptrace attach or
//! /proc memory reads by other processes of the same user.

/// Set the core size limit (soft and hard) to zero and mark the process
/// not dumpable. Failures are ignored: the limits only add safety.
pub fn no_core_dumps() {
    #[cfg(unix)]
    {
        let zero = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: setrlimit reads the struct we pass; no other memory.
        unsafe {
            libc::setrlimit(libc::RLIMIT_CORE, &zero);
        }
    }
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_DUMPABLE takes an integer argument; no memory.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}
