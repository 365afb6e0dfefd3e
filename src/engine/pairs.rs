//! A value per ordered pair (buy, sell) of a key's books.
//!
//! Positions are the books' places in their key's slot list (`0..n`). The
//! matrix owns the layout: callers name a pair by its two positions and never
//! compute an index. The diagonal (a book paired with itself) exists but is
//! never handed out by the iterators.

use std::ops::{Index, IndexMut};

#[derive(Clone, Debug, PartialEq)]
pub struct PairMatrix<T> {
    /// Number of positions.
    n: usize,
    /// Row-major: the row is the buy position, the column the sell one.
    cells: Vec<T>,
}

impl<T> Default for PairMatrix<T> {
    fn default() -> Self {
        PairMatrix {
            n: 0,
            cells: Vec::new(),
        }
    }
}

impl<T: Default> PairMatrix<T> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of positions (books), not of pairs.
    pub fn positions(&self) -> usize {
        self.n
    }

    fn cell(&self, buy: usize, sell: usize) -> Option<usize> {
        (buy < self.n && sell < self.n).then(|| buy * self.n + sell)
    }

    pub fn get(&self, buy: usize, sell: usize) -> Option<&T> {
        self.cell(buy, sell).map(|c| &self.cells[c])
    }

    pub fn get_mut(&mut self, buy: usize, sell: usize) -> Option<&mut T> {
        self.cell(buy, sell).map(|c| &mut self.cells[c])
    }

    /// Add one position (numbered `positions()` before the call); its pairs
    /// start at `T::default()`, existing pairs keep their values.
    pub fn grow(&mut self) {
        let old = self.n;
        let n = old + 1;
        let mut cells: Vec<T> = Vec::with_capacity(n * n);
        let mut previous = std::mem::take(&mut self.cells).into_iter();
        for _ in 0..old {
            cells.extend(previous.by_ref().take(old));
            cells.push(T::default());
        }
        cells.extend((0..n).map(|_| T::default()));
        self.n = n;
        self.cells = cells;
    }

    /// Keep only the positions in `kept` (old positions, in their new order)
    /// and renumber them `0..kept.len()`; pairs among kept positions keep
    /// their values, every other pair is dropped.
    pub fn retain(&mut self, kept: &[usize]) {
        let m = kept.len();
        let mut cells = Vec::with_capacity(m * m);
        for &buy in kept {
            for &sell in kept {
                let value = self.get_mut(buy, sell).map(std::mem::take);
                cells.push(value.unwrap_or_default());
            }
        }
        self.n = m;
        self.cells = cells;
    }

    /// Every ordered pair of distinct positions with its value, by buy then
    /// sell position.
    pub fn iter(&self) -> impl Iterator<Item = ((usize, usize), &T)> {
        let n = self.n;
        self.cells
            .iter()
            .enumerate()
            .map(move |(c, v)| ((c / n, c % n), v))
            .filter(|((b, s), _)| b != s)
    }

    /// Like [`PairMatrix::iter`], mutably.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = ((usize, usize), &mut T)> {
        let n = self.n;
        self.cells
            .iter_mut()
            .enumerate()
            .map(move |(c, v)| ((c / n, c % n), v))
            .filter(|((b, s), _)| b != s)
    }

    /// Every ordered pair involving `pos`, each once: for each other
    /// position `o` in order, `(pos, o)` then `(o, pos)`.
    pub fn involving(&self, pos: usize) -> impl Iterator<Item = (usize, usize)> + use<T> {
        (0..self.n)
            .filter(move |&o| o != pos)
            .flat_map(move |o| [(pos, o), (o, pos)])
    }
}

impl<T: Default> Index<(usize, usize)> for PairMatrix<T> {
    type Output = T;

    /// Panics when a position is out of range (a bug in the caller's slot
    /// bookkeeping, never a data condition).
    fn index(&self, (buy, sell): (usize, usize)) -> &T {
        match self.get(buy, sell) {
            Some(v) => v,
            None => panic!("pair ({buy}, {sell}) outside a {0}×{0} matrix", self.n),
        }
    }
}

impl<T: Default> IndexMut<(usize, usize)> for PairMatrix<T> {
    fn index_mut(&mut self, (buy, sell): (usize, usize)) -> &mut T {
        let n = self.n;
        match self.get_mut(buy, sell) {
            Some(v) => v,
            None => panic!("pair ({buy}, {sell}) outside a {n}×{n} matrix"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A matrix whose pair (b, s) holds `10 b + s + 1` for `n` positions.
    fn numbered(n: usize) -> PairMatrix<u32> {
        let mut m = PairMatrix::new();
        for _ in 0..n {
            m.grow();
        }
        for b in 0..n {
            for s in 0..n {
                m[(b, s)] = (10 * b + s + 1) as u32;
            }
        }
        m
    }

    #[test]
    fn grow_keeps_existing_pairs_and_defaults_new_ones() {
        let mut m = numbered(3);
        m.grow();
        assert_eq!(m.positions(), 4);
        for b in 0..3 {
            for s in 0..3 {
                assert_eq!(m[(b, s)], (10 * b + s + 1) as u32);
            }
        }
        for o in 0..4 {
            assert_eq!(m[(3, o)], 0);
            assert_eq!(m[(o, 3)], 0);
        }
        assert_eq!(m.get(4, 0), None);
        assert_eq!(m.get(0, 4), None);
    }

    #[test]
    fn retain_renumbers_and_reorders() {
        let mut m = numbered(4);
        m.retain(&[3, 1]);
        assert_eq!(m.positions(), 2);
        assert_eq!(m[(0, 1)], 32);
        assert_eq!(m[(1, 0)], 14);
        assert_eq!(m[(0, 0)], 34);
        m.retain(&[]);
        assert_eq!(m.positions(), 0);
        assert_eq!(m.iter().count(), 0);
    }

    #[test]
    fn iterators_skip_the_diagonal() {
        let mut m = numbered(3);
        let pairs: Vec<(usize, usize)> = m.iter().map(|(p, _)| p).collect();
        assert_eq!(pairs, [(0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1)]);
        let with_1: Vec<(usize, usize)> = m.involving(1).collect();
        assert_eq!(with_1, [(1, 0), (0, 1), (1, 2), (2, 1)]);
        for (_, v) in m.iter_mut() {
            *v += 100;
        }
        assert_eq!(m[(0, 2)], 103);
        assert_eq!(m[(1, 1)], 12, "the diagonal is left alone");
    }

    #[test]
    #[should_panic(expected = "outside a 2×2 matrix")]
    fn out_of_range_index_panics() {
        let m = numbered(2);
        let _ = m[(2, 0)];
    }
}
