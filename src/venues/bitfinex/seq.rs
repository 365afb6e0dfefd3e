//! Bitfinex's connection-wide sequence numbers (`SEQ_ALL`, flag 65536):
//! every data frame of a connection, heartbeats included, carries the
//! previous frame's number plus one, starting at 1.
//!
//! Live, every connection has its own URL (`?conn=N`), so a URL has one
//! sequence. A recording, though, may hold several connections to the same
//! address (cryptofeed opens one per 20 subscriptions, all to
//! `wss://api-pub.bitfinex.com/ws/2`), and the adapter knows connections by
//! address only. So a URL keeps one counter per connection opened on it and
//! a frame is in order when it follows any of them: the frames of each
//! connection arrive in order, so the multiset of counters evolves exactly
//! as the connections' own would, whichever counter a frame is matched to.
//! A frame that follows none is a gap.

/// At most this many connections are tracked per URL (a recording that
/// reconnects without a close leaves dead counters behind).
const MAX_STREAMS: usize = 16;

#[derive(Clone, Debug, Default)]
pub struct ConnSeq {
    /// The last number seen on each connection open on this URL.
    last: Vec<u64>,
}

impl ConnSeq {
    /// A connection opened on this URL: its first frame is number 1.
    pub fn opened(&mut self) {
        if self.last.len() >= MAX_STREAMS {
            self.last.remove(0);
        }
        self.last.push(0);
    }

    /// Frame number `n` arrived: `Err((expected, got))` when it follows no
    /// connection's last number. The counter closest below `n` then takes
    /// `n`, so the stream is followed from there.
    pub fn accept(&mut self, n: u64) -> Result<(), (u64, u64)> {
        if let Some(prev) = n.checked_sub(1)
            && let Some(s) = self.last.iter_mut().find(|s| **s == prev)
        {
            *s = n;
            return Ok(());
        }
        if self.last.is_empty() {
            // Frames on a connection whose opening was not seen.
            self.last.push(n);
            return Ok(());
        }
        let idx = self
            .last
            .iter()
            .enumerate()
            .filter(|(_, s)| **s < n)
            .max_by_key(|(_, s)| **s)
            .map_or(0, |(i, _)| i);
        let expected = self.last[idx].saturating_add(1);
        self.last[idx] = n;
        Err((expected, n))
    }

    #[cfg(test)]
    pub fn streams(&self) -> usize {
        self.last.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_connection_counts_up_from_one() {
        let mut s = ConnSeq::default();
        s.opened();
        assert_eq!(s.accept(1), Ok(()));
        assert_eq!(s.accept(2), Ok(()));
        assert_eq!(s.accept(4), Err((3, 4)));
        assert_eq!(s.accept(5), Ok(()), "followed from the gap on");
        assert_eq!(s.accept(5), Err((6, 5)), "a repeat is out of order");
    }

    #[test]
    fn interleaved_connections_on_one_address() {
        let mut s = ConnSeq::default();
        s.opened();
        s.opened();
        // Two connections' frames interleaved, each in order.
        for n in [1, 1, 2, 3, 2, 4, 3, 4, 5, 6, 7, 5] {
            assert_eq!(s.accept(n), Ok(()), "{n}");
        }
        assert_eq!(s.accept(9), Err((8, 9)));
        assert_eq!(s.streams(), 2);
    }

    #[test]
    fn unseen_opening_starts_where_the_frames_do() {
        let mut s = ConnSeq::default();
        assert_eq!(s.accept(120), Ok(()));
        assert_eq!(s.accept(121), Ok(()));
        assert_eq!(s.accept(0), Err((122, 0)));
    }
}
