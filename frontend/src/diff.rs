//! A file's diff hunks (structured by the server, each line with its numbers) → side-by-side
//! rows for the proposal view.

use rulestudio_api::proposals::{Hunk, LineKind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowKind {
    Same,
    Changed,
    Hunk,
}

/// One row: old line (number, text) on the left, new line on the right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub kind: RowKind,
    pub old: Option<(u32, String)>,
    pub new: Option<(u32, String)>,
}

/// A header row per hunk, then its lines; runs of removed and added lines are paired up line
/// by line.
pub fn side_by_side(hunks: &[Hunk]) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut removed: Vec<(u32, String)> = Vec::new();
    let mut added: Vec<(u32, String)> = Vec::new();
    let flush =
        |rows: &mut Vec<Row>, removed: &mut Vec<(u32, String)>, added: &mut Vec<(u32, String)>| {
            let n = removed.len().max(added.len());
            let (mut r, mut a) = (removed.drain(..), added.drain(..));
            for _ in 0..n {
                rows.push(Row {
                    kind: RowKind::Changed,
                    old: r.next(),
                    new: a.next(),
                });
            }
        };
    for h in hunks {
        flush(&mut rows, &mut removed, &mut added);
        rows.push(Row {
            kind: RowKind::Hunk,
            old: None,
            new: Some((0, h.header.clone())),
        });
        for line in &h.lines {
            let old = line.old.map(|n| (n, line.text.clone()));
            let new = line.new.map(|n| (n, line.text.clone()));
            match line.kind {
                LineKind::Removed => removed.extend(old),
                LineKind::Added => added.extend(new),
                LineKind::Context => {
                    flush(&mut rows, &mut removed, &mut added);
                    rows.push(Row {
                        kind: RowKind::Same,
                        old,
                        new,
                    });
                }
            }
        }
    }
    flush(&mut rows, &mut removed, &mut added);
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use rulestudio_api::proposals::DiffLine;

    fn line(kind: LineKind, text: &str, old: Option<u32>, new: Option<u32>) -> DiffLine {
        DiffLine {
            kind,
            text: text.into(),
            old,
            new,
            no_newline: false,
        }
    }

    #[test]
    fn pairs_changes_and_keeps_the_servers_line_numbers() {
        use LineKind::*;
        let hunk = Hunk {
            header: "@@ -3,3 +3,4 @@".into(),
            lines: vec![
                line(Context, "---", Some(3), Some(3)),
                line(Removed, "-- old", Some(4), None),
                line(Added, "+++ new", None, Some(4)),
                line(Added, "more", None, Some(5)),
                line(Context, "tail", Some(5), Some(6)),
            ],
        };
        let rows = side_by_side(&[hunk]);
        assert_eq!(rows[0].kind, RowKind::Hunk);
        let cells: Vec<_> = rows[1..]
            .iter()
            .map(|r| (r.kind.clone(), r.old.clone(), r.new.clone()))
            .collect();
        let cell = |n: u32, t: &str| Some((n, t.to_string()));
        assert_eq!(
            cells,
            [
                (RowKind::Same, cell(3, "---"), cell(3, "---")),
                (RowKind::Changed, cell(4, "-- old"), cell(4, "+++ new")),
                (RowKind::Changed, None, cell(5, "more")),
                (RowKind::Same, cell(5, "tail"), cell(6, "tail")),
            ]
        );
    }
}
