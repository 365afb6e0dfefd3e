//! TLS for WebSockets and REST: rustls, trusting the platform's root
//! certificates plus the bundled web-PKI roots, so it works on a machine whose
//! certificate store is empty or missing as well as behind a corporate CA.

use std::sync::{Arc, OnceLock};

use rustls::RootCertStore;

/// The shared client configuration (built once).
pub fn client_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CONFIG.get_or_init(build).clone()
}

/// The platform's root certificates plus the bundled web-PKI roots.
fn trust_store() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    let (added, _ignored) = roots.add_parsable_certificates(native.certs);
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    tracing::debug!(
        platform_roots = added,
        bundled_roots = webpki_roots::TLS_SERVER_ROOTS.len(),
        "TLS trust store ready"
    );
    roots
}

fn build() -> Arc<rustls::ClientConfig> {
    let roots = trust_store();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map(|b| b.with_root_certificates(roots).with_no_client_auth());
    match config {
        Ok(c) => Arc::new(c),
        // The default protocol versions are always supported by ring;
        // fall back to rustls' own defaults rather than abort if that changes.
        Err(e) => {
            tracing::error!("TLS setup: {e}");
            Arc::new(
                rustls::ClientConfig::builder_with_provider(Arc::new(
                    rustls::crypto::ring::default_provider(),
                ))
                .with_protocol_versions(&[&rustls::version::TLS13])
                .expect("TLS 1.3 is supported by ring")
                .with_root_certificates(RootCertStore::empty())
                .with_no_client_auth(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn trusts_at_least_the_bundled_roots() {
        // Holds on a bare machine with no platform certificates too.
        assert!(super::trust_store().len() >= webpki_roots::TLS_SERVER_ROOTS.len());
        assert!(!webpki_roots::TLS_SERVER_ROOTS.is_empty());
        // And a client configuration builds from it.
        let _ = super::client_config();
    }
}
