//! `depthwatch venues`: the supported venues and their channels.

use crate::model::Venue;

/// The venue table as Markdown (the README's table is this output).
pub fn table() -> String {
    let mut out = String::from(
        "| venue | markets | book | trades | liquidations | funding / OI | integrity | replays captures named |\n|---|---|---|---|---|---|---|---|\n",
    );
    for venue in Venue::all() {
        let spec = venue.spec();
        let i = &spec.info;
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            venue,
            i.markets,
            i.book,
            i.trades,
            i.liquidations,
            i.funding,
            i.integrity,
            spec.capture_names.join(", ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn readme_venue_table_matches_the_venues_command() {
        let readme = include_str!("../../README.md");
        let table = super::table();
        assert!(
            readme.contains(&table),
            "README.md's venue table is out of date; paste `depthwatch venues` output:\n{table}"
        );
    }
}
