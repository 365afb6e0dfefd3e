//! The signals that stop a headless run the clean way (engine, feeds and
//! store flushed): Ctrl-C (SIGINT) everywhere, and SIGTERM on Unix, which
//! is how service managers and container runtimes ask a process to stop.

/// Waits for SIGINT or SIGTERM. Create it before the run loop: SIGTERM is
/// caught from then on, and a signal arriving between two waits is kept.
pub struct Shutdown {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
}

impl Shutdown {
    pub fn new() -> Self {
        Shutdown {
            #[cfg(unix)]
            term: match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => Some(s),
                Err(e) => {
                    tracing::warn!("SIGTERM not caught ({e}): only Ctrl-C stops cleanly");
                    None
                }
            },
        }
    }

    /// Resolves at the next SIGINT or SIGTERM, and says which.
    pub async fn signalled(&mut self) -> &'static str {
        #[cfg(unix)]
        if let Some(term) = self.term.as_mut() {
            return tokio::select! {
                _ = tokio::signal::ctrl_c() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            };
        }
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    }
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}
