use super::*;

fn market(seed: u64) -> Market {
    let cfg = SimConfig {
        seed,
        ..SimConfig::default()
    };
    Market::new(&cfg, Arc::new(catalog::specs()), 1_700_000_000_000)
}

#[test]
fn books_stay_deep_uncrossed_and_views_track_them() {
    let mut m = market(7);
    let mut trades = 0;
    let mut liqs = 0;
    for i in 0..600 {
        let step = m.step(1_700_000_000_000 + 100 * (i + 1));
        for e in &step.events {
            match e {
                SimEvent::Trade(_) => trades += 1,
                SimEvent::Liquidation(_) => liqs += 1,
                _ => {}
            }
        }
        for sim in &m.books {
            let (b, a) = (sim.book.bids.best().unwrap(), sim.book.asks.best().unwrap());
            assert!(b.0 < a.0, "crossed at step {i}");
            for v in &sim.views {
                assert_eq!(v.bids, sim.book.bids.top(v.depth));
            }
        }
    }
    assert!(trades > 100, "{trades} trades");
    assert!(liqs > 0);
    for sim in &m.books {
        assert!(sim.book.bids.len() >= 400 && sim.book.asks.len() >= 400);
    }
}

#[test]
fn same_seed_same_market() {
    let (mut a, mut b) = (market(3), market(3));
    for i in 0..50 {
        let (sa, sb) = (a.step(i * 100), b.step(i * 100));
        assert_eq!(format!("{:?}", sa.events), format!("{:?}", sb.events));
    }
    let mut c = market(4);
    let sc = c.step(100);
    let sa = market(3).step(100);
    assert_ne!(format!("{:?}", sa.events), format!("{:?}", sc.events));
}
