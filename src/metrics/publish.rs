//! Publish errors in an app: the one family a publisher counts itself,
//! because no engine snapshot knows about it. A publisher keeps a clone and
//! calls [`PublishErrors::inc`] when a message could not be published; the
//! endpoint shows `depthwatch_publish_errors_total{sink, reason}`. (The
//! collector's NATS publisher counts its failures in its own stats, which
//! its endpoint reads: `crate::bus::publish::Failure`.)

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

/// `sink` (e.g. `nats`) and `reason` (a short fixed word such as `timeout`,
/// `disconnected` or `no_ack`: a label, so never free text).
type Labels = [(&'static str, String); 2];

/// Cheap to clone; every clone counts into the same family.
#[derive(Clone, Debug, Default)]
pub struct PublishErrors {
    family: Family<Labels, Counter>,
}

impl PublishErrors {
    /// One message `sink` could not publish, for `reason`.
    pub fn inc(&self, sink: &str, reason: &str) {
        self.family
            .get_or_create(&[("sink", sink.to_string()), ("reason", reason.to_string())])
            .inc();
    }

    /// The count so far for `sink` and `reason`.
    pub fn get(&self, sink: &str, reason: &str) -> u64 {
        self.family
            .get(&[("sink", sink.to_string()), ("reason", reason.to_string())])
            .map_or(0, |c| c.get())
    }

    pub(super) fn family(&self) -> &Family<Labels, Counter> {
        &self.family
    }
}
