//! Who holds a delivery claim: `HOST/PID/RANDOM`, distinct for every
//! running receiver, so several receivers on one store never take one
//! another's claims while alive. A claim whose holder ran on this host and
//! whose process is gone can be taken over at once instead of waiting for
//! its lease to lapse (a receiver restarted after a crash).

/// A holder name for this process.
pub fn unique() -> String {
    format!(
        "{}/{}/{:08x}",
        host(),
        std::process::id(),
        rand::random::<u32>()
    )
}

/// This machine's name as it appears in holder names ('/' removed).
pub fn host() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default();
    let name: String = name.trim().chars().filter(|c| *c != '/').collect();
    if name.is_empty() {
        "localhost".into()
    } else {
        name
    }
}

/// Whether `holder` names a process of this host that no longer runs.
/// Unknown forms, other hosts and systems without `/proc` answer false:
/// their claims wait for the lease to lapse.
pub fn is_dead_here(holder: &str, me: &str) -> bool {
    let mut parts = holder.split('/');
    let (Some(h), Some(pid), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    if holder == me || h != host() || !std::path::Path::new("/proc/self").exists() {
        return false;
    }
    // Our own pid with another random part: an earlier process that had
    // this pid, now gone (we are it).
    pid == std::process::id() || !std::path::Path::new(&format!("/proc/{pid}")).exists()
}
