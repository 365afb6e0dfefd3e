//! REST bodies already parsed: an instrument list fetched again (each hour
//! live, several times over in a long capture) is usually byte-identical
//! to the last one, and at several megabytes its parse is a replay's single
//! largest cost. An adapter asks [`SeenBodies::fresh`] before parsing and
//! [`SeenBodies::keep`]s a body once it parsed, so a repeat is skipped and
//! a body that failed is parsed (and counted) again.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};

/// A body's fingerprint (SipHash with this process's random keys, so a
/// hostile endpoint cannot aim for a collision).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyHash(u64);

#[derive(Debug, Default)]
pub struct SeenBodies {
    last: HashMap<String, BodyHash>,
    keys: RandomState,
}

impl SeenBodies {
    /// `None` when `body` is exactly the last body kept for `url`; else its
    /// fingerprint, to [`keep`](Self::keep) once it parsed.
    pub fn fresh(&self, url: &str, body: &str) -> Option<BodyHash> {
        let hash = BodyHash(self.keys.hash_one(body));
        (self.last.get(url) != Some(&hash)).then_some(hash)
    }

    pub fn keep(&mut self, url: &str, hash: BodyHash) {
        match self.last.get_mut(url) {
            Some(h) => *h = hash,
            None => {
                self.last.insert(url.to_string(), hash);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeat_of_the_kept_body_is_not_fresh() {
        let mut seen = SeenBodies::default();
        let h = seen.fresh("u", "[1]").expect("first time");
        assert!(seen.fresh("u", "[1]").is_some(), "not kept yet");
        seen.keep("u", h);
        assert_eq!(seen.fresh("u", "[1]"), None);
        // Another URL, or a changed body, is fresh.
        assert!(seen.fresh("v", "[1]").is_some());
        let h2 = seen.fresh("u", "[1,2]").expect("changed");
        seen.keep("u", h2);
        assert!(
            seen.fresh("u", "[1]").is_some(),
            "the old body is not the last"
        );
    }
}
