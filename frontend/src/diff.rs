//! Unified diff → side-by-side rows for the proposal view.

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

/// Parses `@@ -a,b +c,d @@` hunks; removed and added runs are paired up line by line.
pub fn side_by_side(unified: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    let (mut old_no, mut new_no) = (0u32, 0u32);
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
    for line in unified.lines() {
        if line.starts_with("---") || line.starts_with("+++") {
            continue;
        }
        if let Some(h) = line.strip_prefix("@@") {
            flush(&mut rows, &mut removed, &mut added);
            let mut nums = h.split_whitespace().take(2).map(|p| {
                p.trim_start_matches(['-', '+'])
                    .split(',')
                    .next()
                    .and_then(|n| n.parse::<u32>().ok())
                    .unwrap_or(1)
            });
            old_no = nums.next().unwrap_or(1);
            new_no = nums.next().unwrap_or(1);
            rows.push(Row {
                kind: RowKind::Hunk,
                old: None,
                new: Some((0, line.to_string())),
            });
        } else if let Some(t) = line.strip_prefix('-') {
            removed.push((old_no, t.to_string()));
            old_no += 1;
        } else if let Some(t) = line.strip_prefix('+') {
            added.push((new_no, t.to_string()));
            new_no += 1;
        } else {
            flush(&mut rows, &mut removed, &mut added);
            let t = line.strip_prefix(' ').unwrap_or(line).to_string();
            rows.push(Row {
                kind: RowKind::Same,
                old: Some((old_no, t.clone())),
                new: Some((new_no, t)),
            });
            old_no += 1;
            new_no += 1;
        }
    }
    flush(&mut rows, &mut removed, &mut added);
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_changes() {
        let d = "--- a/x\n+++ b/x\n@@ -3,3 +3,4 @@\n keep\n-old\n+new\n+more\n tail\n";
        let rows = side_by_side(d);
        assert_eq!(rows[0].kind, RowKind::Hunk);
        assert_eq!(
            rows[1],
            Row {
                kind: RowKind::Same,
                old: Some((3, "keep".into())),
                new: Some((3, "keep".into()))
            }
        );
        assert_eq!(
            rows[2],
            Row {
                kind: RowKind::Changed,
                old: Some((4, "old".into())),
                new: Some((4, "new".into()))
            }
        );
        assert_eq!(
            rows[3],
            Row {
                kind: RowKind::Changed,
                old: None,
                new: Some((5, "more".into()))
            }
        );
        assert_eq!(
            rows[4],
            Row {
                kind: RowKind::Same,
                old: Some((5, "tail".into())),
                new: Some((6, "tail".into()))
            }
        );
    }
}
